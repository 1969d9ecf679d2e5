import { GetCommand, PutCommand, DeleteCommand } from '@aws-sdk/lib-dynamodb';
import type { Deps } from './deps';
import { lambda } from './lambda';
import { CURSOR_KEY, dueEntries, duePartition, getDelivery } from './webhooks/deliveries';
import { WebhookRunner } from './webhooks/runner';

const MINUTE = 60_000;
/** Writers' clocks may lag the sender's a little: a minute is only closed once it is this far behind. */
const CLOCK_SLACK_MS = 2 * MINUTE;

/**
 * Scheduled sender: attempts every delivery whose next attempt is due, reading the due schedule's
 * minute partitions from the oldest one that may still hold entries (a durable cursor) up to now.
 * So a stopped or crashed stack, or a missed tick, delays retries but loses none. Runs tolerate
 * being doubled: each attempt needs the delivery's lease.
 */
export const make = (deps: Deps) => {
  const runner = new WebhookRunner(deps);
  return async () => {
    const started = Date.now();
    runner.beginBatch();
    const now = deps.now();
    const { Item } = await deps.doc.send(new GetCommand({ TableName: deps.tables.views, Key: CURSOR_KEY, ConsistentRead: true }));
    let minute = Item?.minute ? Date.parse(`${Item.minute}:00.000Z`) : Math.floor((now.getTime() - 10 * MINUTE) / MINUTE) * MINUTE;
    const closedBefore = now.getTime() - CLOCK_SLACK_MS;
    let cursor = minute;
    let allDone = true;
    for (; minute <= now.getTime(); minute += MINUTE) {
      const partition = duePartition(new Date(minute).toISOString());
      let drained = false;
      while (Date.now() - started < runner.settings.runBudgetMs) {
        const entries = await dueEntries(deps, partition, deps.now().toISOString());
        if (entries.length === 0) {
          drained = true;
          break;
        }
        await Promise.all(
          entries.map(async (entry) => {
            const delivery = await getDelivery(deps, entry.endpointId, entry.webhookId);
            if (!delivery || delivery.dueKey?.sk !== entry.sk) {
              // A stale entry: the delivery was rescheduled (or expired) since.
              await deps.doc.send(new DeleteCommand({ TableName: deps.tables.views, Key: { pk: entry.pk, sk: entry.sk } }));
              return;
            }
            await runner.attemptLogged(entry.endpointId, entry.webhookId);
          }),
        );
        // Entries still here were not attempted (leased elsewhere, or waiting): leave them for the next run.
        const left = await dueEntries(deps, partition, deps.now().toISOString());
        if (left.length === 0 || left.every((e) => entries.some((x) => x.sk === e.sk))) {
          drained = left.length === 0;
          break;
        }
      }
      allDone &&= drained;
      if (allDone && minute + MINUTE <= closedBefore) cursor = minute + MINUTE;
      if (Date.now() - started >= runner.settings.runBudgetMs) break;
    }
    if (!Item || cursor !== Date.parse(`${Item.minute}:00.000Z`)) {
      await deps.doc.send(new PutCommand({ TableName: deps.tables.views, Item: { ...CURSOR_KEY, minute: new Date(cursor).toISOString().slice(0, 16) } }));
    }
  };
};

export const handler = lambda(make);

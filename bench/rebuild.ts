/**
 * Rebuild throughput: events per second that `rebuildProjections` turns back into read
 * models, beside a raw Scan of the same event table in the same run (the floor any rebuild pays to
 * read the events). Runs on its own in-memory DynamoDB Local with a synthetic but schema-valid
 * history: accounts with a trial, jobs that were queued, submitted, started, ran and succeeded, each
 * with its hold placed and settled. `BENCH_REBUILD_JOBS` sets the number of jobs (default 1000).
 */
import '../infra/local/quiet-sdk';
import { cpus, totalmem } from 'node:os';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { AccountEvent } from '../events/account-events';
import { JobEvent } from '../events/job-events';
import { currentSchemaVersion } from '../events/upcasters';
import { batchWrite, createDynamoClients } from '../functions/adapters/dynamodb';
import { versionKey } from '../functions/adapters/dynamodb-event-store';
import { rebuildProjections } from '../functions/rebuild';
import { ensureTables } from '../infra/local/create-tables';
import { startDynamoDbLocal } from '../infra/local/dynamodb-local';
import { tableNames } from '../infra/tables';
import { fmt } from './stats';

const JOBS = Number(process.env.BENCH_REBUILD_JOBS ?? 1000);
const JOBS_PER_ACCOUNT = 10;

const id = (prefix: string, n: number) => `${prefix}_01${n.toString(36).padStart(24, '0')}`;
const at = (second: number) => new Date(Date.UTC(2026, 10, 1) + second * 1000).toISOString();

/** One account's history and its jobs', as event items; every event is checked against its schema. */
function history(a: number): Array<Record<string, unknown>> {
  const accountId = id('acct', a);
  const items: Array<Record<string, unknown>> = [];
  const push = (streamId: string, version: number, event: { type: string; data: Record<string, unknown> }, second: number) =>
    items.push({ pk: streamId, sk: versionKey(version), version, type: event.type, schemaVersion: currentSchemaVersion(event.type), data: event.data, metadata: { actor: 'bench' }, at: at(second) });
  const account = (event: unknown) => AccountEvent.parse(event);
  const job = (event: unknown) => JobEvent.parse(event);
  let accountVersion = 0;
  push(`account#${accountId}`, ++accountVersion, account({ type: 'AccountOpened', data: { accountId, email: `a${a}@example.com`, openedAt: at(0), trial: { gpuType: 'a100', gpuSeconds: 300_000 } } }), 0);
  for (let j = 0; j < JOBS_PER_ACCOUNT; j++) {
    const jobId = id('job', a * JOBS_PER_ACCOUNT + j);
    const t = 10 + j * 100;
    push(`account#${accountId}`, ++accountVersion, account({ type: 'HoldPlaced', data: { jobId, gpuType: 'a100', gpuCount: 1, seconds: 90, trialGpuSeconds: 90, placedAt: at(t) } }), t);
    const stream = `job#${jobId}`;
    const usage = { gpuSeconds: 42, trialGpuSeconds: 42, cost: { amount: 0, currency: 'CNY' } };
    const events = [
      { type: 'JobQueued', data: { jobId, accountId, name: null, image: 'bench/train:1', command: ['python', 'train.py'], env: {}, gpuType: 'a100', gpuCount: 1, maxRuntimeSeconds: 60, heldSeconds: 90, graceSeconds: 30, stopReason: 'max_runtime_exceeded', trialGpuSeconds: 90, queuedAt: at(t) } },
      { type: 'BatchJobSubmitted', data: { batchJobId: `b-${jobId}`, submittedAt: at(t + 1) } },
      { type: 'JobStarting', data: { at: at(t + 2) } },
      { type: 'JobRunning', data: { startedAt: at(t + 3) } },
      { type: 'JobSucceeded', data: { finishedAt: at(t + 45), runSeconds: 42, usage, exitCode: 0 } },
    ];
    events.forEach((event, i) => push(stream, i + 1, job(event), t + i));
    push(
      `account#${accountId}`,
      ++accountVersion,
      account({ type: 'HoldSettled', data: { jobId, gpuType: 'a100', gpuCount: 1, runSeconds: 42, trialGpuSecondsCharged: 42, trialGpuSecondsReleased: 48, periodStart: at(t + 3), periodEnd: at(t + 45), settledAt: at(t + 46) } }),
      t + 46,
    );
  }
  return items;
}

export async function benchRebuild(): Promise<void> {
  const dynamo = await startDynamoDbLocal();
  const { client, doc } = createDynamoClients({ endpoint: dynamo.endpoint });
  try {
    const tables = tableNames('bench-rebuild');
    await ensureTables(client, tables);
    const items = Array.from({ length: Math.ceil(JOBS / JOBS_PER_ACCOUNT) }, (_, a) => history(a)).flat();
    await batchWrite(doc, tables.events, items.map((Item) => ({ PutRequest: { Item } })));

    // Baseline: a raw, strongly consistent Scan of the whole event table.
    let scanned = 0;
    const scanStarted = performance.now();
    let start: Record<string, unknown> | undefined;
    do {
      const page = await doc.send(new ScanCommand({ TableName: tables.events, ConsistentRead: true, ExclusiveStartKey: start }));
      scanned += page.Items?.length ?? 0;
      start = page.LastEvaluatedKey;
    } while (start);
    const scanSeconds = (performance.now() - scanStarted) / 1000;

    const result = await rebuildProjections({ deps: { doc, tables } });
    const scanRate = scanned / scanSeconds;
    const rebuildRate = result.events / result.seconds;
    console.log(`\nrebuild: ${fmt(result.events)} events in ${fmt(result.streams)} streams (${fmt(JOBS)} jobs), ${cpus().length} cores, ${fmt(totalmem() / 2 ** 30)} GiB`);
    console.log(`  raw Scan of the event table:   ${fmt(scanRate)} events/s (${fmt(scanSeconds, 2)} s)`);
    console.log(`  rebuildProjections (all five): ${fmt(rebuildRate)} events/s (${fmt(result.seconds, 2)} s)   ratio ${fmt(rebuildRate / scanRate, 3)}`);
  } finally {
    client.destroy();
    await dynamo.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  benchRebuild().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}

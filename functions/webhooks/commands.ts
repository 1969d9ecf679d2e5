import { decideWebhooks, type WebhookCommand, type WebhookRegistryState } from '../../domain/webhooks/endpoints';
import { retryOnConflict } from '../adapters/with-retry';
import type { EventMetadata } from '../adapters/event-store';
import { fold, load } from '../aggregates/aggregate';
import { webhookRegistries } from '../aggregates/webhooks';
import type { Deps } from '../deps';

/**
 * Loads an account's webhook registry, decides `command` on it and appends the result; reloads and
 * decides again on a concurrent change.
 * @returns the registry after the command.
 * @throws domain errors from the decider (NotFoundError, LimitExceededError).
 */
export async function runWebhookCommand(
  deps: Deps,
  accountId: string,
  makeCommand: (now: string) => WebhookCommand,
  metadata: EventMetadata = {},
): Promise<WebhookRegistryState> {
  return retryOnConflict(async () => {
    const registry = await load(deps.store, webhookRegistries, accountId);
    const now = deps.now().toISOString();
    const events = decideWebhooks(makeCommand(now), registry.state);
    if (events.length === 0) return registry.state;
    await deps.store.append([{ streamId: webhookRegistries.streamId(accountId), expectedVersion: registry.version, events }], { at: now, metadata });
    return fold(webhookRegistries, registry.state, events);
  });
}

import type { WebhookCommand, WebhookRegistryState } from '../../domain/webhooks/endpoints';
import type { EventMetadata } from '../adapters/event-store';
import { webhookRegistries } from '../aggregates/webhooks';
import { handleCommand } from '../command-handler';
import type { Deps } from '../deps';

/**
 * Decides `command` on an account's webhook registry through the command handler.
 * @returns the registry after the command.
 * @throws domain errors from the decider (NotFoundError, LimitExceededError).
 */
export async function runWebhookCommand(
  deps: Deps,
  accountId: string,
  makeCommand: (now: string) => WebhookCommand,
  metadata: EventMetadata = {},
): Promise<WebhookRegistryState> {
  return (await handleCommand(deps, webhookRegistries, accountId, makeCommand, { metadata })).state;
}

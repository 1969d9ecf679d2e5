import { WebhookEvent } from '../../events/webhook-events';
import { evolveWebhookRegistry, initialWebhookRegistry, type WebhookRegistryState } from '../../domain/webhooks/endpoints';
import type { Aggregate } from './aggregate';

/** An account's webhook endpoints (`webhooks#<account id>`), keyed by the account id. */
export const webhookRegistries: Aggregate<WebhookRegistryState, WebhookEvent> = {
  streamId: (accountId) => `webhooks#${accountId}`,
  schema: WebhookEvent,
  initial: initialWebhookRegistry,
  evolve: evolveWebhookRegistry,
};

import { WebhookEvent } from '../../events/webhook-events';
import { webhookRegistryDecider } from '../../domain/webhooks/endpoints';

/** An account's webhook endpoints (`webhooks#<account id>`), keyed by the account id. */
export const webhookRegistries = { ...webhookRegistryDecider, schema: WebhookEvent };

import { z } from 'zod';
import { AccountId, IsoTime } from './values';

/**
 * Events of an account's webhook registry (`webhooks#<account id>`): every endpoint of the account
 * lives in this one stream, so the fan-out reads all of an account's endpoints with one strongly
 * consistent query, and never misses an endpoint created just before an event.
 */
export const WebhookEndpointId = z.string().regex(/^whep_[0-9a-z]{26}$/);

export const WebhookEndpointCreated = z.object({
  type: z.literal('WebhookEndpointCreated'),
  data: z.object({
    endpointId: WebhookEndpointId,
    accountId: AccountId,
    url: z.string(),
    /** Public event types it subscribes to; null means all, including types added later. */
    events: z.array(z.string()).nullable(),
    description: z.string().nullable(),
    /** `whsec_<base64>`: the sender must sign with it. See docs/design-notes.md on why it is kept here. */
    secret: z.string(),
    createdAt: IsoTime,
  }),
});

/** A new secret; the previous one keeps signing too until `previousExpiresAt`. */
export const WebhookEndpointSecretRotated = z.object({
  type: z.literal('WebhookEndpointSecretRotated'),
  data: z.object({ endpointId: WebhookEndpointId, secret: z.string(), previousExpiresAt: IsoTime, rotatedAt: IsoTime }),
});

/** Deliveries stop: the receiver answered 410 Gone, or failed every attempt for days. */
export const WebhookEndpointDisabled = z.object({
  type: z.literal('WebhookEndpointDisabled'),
  data: z.object({ endpointId: WebhookEndpointId, reason: z.enum(['gone', 'failing']), disabledAt: IsoTime }),
});

export const WebhookEndpointEnabled = z.object({
  type: z.literal('WebhookEndpointEnabled'),
  data: z.object({ endpointId: WebhookEndpointId, enabledAt: IsoTime }),
});

export const WebhookEndpointDeleted = z.object({
  type: z.literal('WebhookEndpointDeleted'),
  data: z.object({ endpointId: WebhookEndpointId, deletedAt: IsoTime }),
});

export const WebhookEvent = z.discriminatedUnion('type', [
  WebhookEndpointCreated,
  WebhookEndpointSecretRotated,
  WebhookEndpointDisabled,
  WebhookEndpointEnabled,
  WebhookEndpointDeleted,
]);
export type WebhookEvent = z.infer<typeof WebhookEvent>;

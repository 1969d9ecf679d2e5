import * as z from 'zod';
import { defineSchema } from './define-schema';
import { AccountId, IsoTime, NullableString } from './values';

/**
 * Events of an account's webhook registry (`webhooks#<account id>`): every endpoint of the account
 * lives in this one stream, so the fan-out reads all of an account's endpoints with one strongly
 * consistent query, and never misses an endpoint created just before an event.
 */
export const WebhookEndpointId = /* @__PURE__ */ defineSchema(() => z.string().regex(/^whep_[0-9a-z]{26}$/));

export const WebhookEndpointCreated = /* @__PURE__ */ defineSchema(() => z.object({
  type: z.literal('WebhookEndpointCreated'),
  data: z.object({
    endpointId: WebhookEndpointId,
    accountId: AccountId,
    url: z.string(),
    /** Public event types it subscribes to; null means all, including types added later. */
    events: z.array(z.string()).nullable(),
    description: NullableString,
    /** `whsec_<base64>`: the sender must sign with it. See docs/webhooks.md on why it is kept here. */
    secret: z.string(),
    createdAt: IsoTime,
  }),
}));

/** A new secret; the previous one keeps signing too until `previousExpiresAt`. */
export const WebhookEndpointSecretRotated = /* @__PURE__ */ defineSchema(() => z.object({
  type: z.literal('WebhookEndpointSecretRotated'),
  data: z.object({ endpointId: WebhookEndpointId, secret: z.string(), previousExpiresAt: IsoTime, rotatedAt: IsoTime }),
}));

/** Deliveries stop: the receiver answered 410 Gone, or failed every attempt for days. */
export const WebhookEndpointDisabled = /* @__PURE__ */ defineSchema(() => z.object({
  type: z.literal('WebhookEndpointDisabled'),
  data: z.object({ endpointId: WebhookEndpointId, reason: z.enum(['gone', 'failing']), disabledAt: IsoTime }),
}));

export const WebhookEndpointEnabled = /* @__PURE__ */ defineSchema(() => z.object({
  type: z.literal('WebhookEndpointEnabled'),
  data: z.object({ endpointId: WebhookEndpointId, enabledAt: IsoTime }),
}));

export const WebhookEndpointDeleted = /* @__PURE__ */ defineSchema(() => z.object({
  type: z.literal('WebhookEndpointDeleted'),
  data: z.object({ endpointId: WebhookEndpointId, deletedAt: IsoTime }),
}));

export const WebhookEvent = /* @__PURE__ */ defineSchema(() => z.discriminatedUnion('type', [
  WebhookEndpointCreated,
  WebhookEndpointSecretRotated,
  WebhookEndpointDisabled,
  WebhookEndpointEnabled,
  WebhookEndpointDeleted,
]));
export type WebhookEvent = z.infer<typeof WebhookEvent>;

import * as z from 'zod';
import { defineSchema } from '../define-schema';
import { Int, NonEmptyString, NullableString } from '../values';
import { ListQuery, listOf } from './common';

/** The public event types a webhook endpoint can subscribe to (API.md, Webhooks). */
export const WebhookEventType = /* @__PURE__ */ defineSchema(() => z.enum([
  'job.queued',
  'job.starting',
  'job.running',
  'job.succeeded',
  'job.failed',
  'job.cancelled',
  'credit.added',
  'balance.low',
]));
export type WebhookEventType = z.infer<typeof WebhookEventType>;

/** `POST /v1/webhook-endpoints` body. `events` omitted or `["*"]`: every type, including ones added later. */
export const CreateWebhookEndpointRequest = /* @__PURE__ */ defineSchema(() => z.strictObject({
  url: NonEmptyString.max(2048),
  events: z.union([z.tuple([z.literal('*')]), z.array(WebhookEventType).min(1).max(WebhookEventType.options.length)]).optional(),
  description: z.string().max(256).optional(),
}));
export type CreateWebhookEndpointRequest = z.input<typeof CreateWebhookEndpointRequest>;

/** The webhook endpoint object. The secret is shown only when created or rotated. */
export const WebhookEndpointBody = /* @__PURE__ */ defineSchema(() => z.object({
  id: z.string(),
  object: z.literal('webhook_endpoint'),
  url: z.string(),
  /** `["*"]` for every type. */
  events: z.array(z.string()),
  description: NullableString,
  /** `disabled`: deliveries stopped, because the receiver answered 410 Gone (`gone`) or failed every attempt for 5 days (`failing`). */
  status: z.enum(['enabled', 'disabled']),
  disabled_reason: z.enum(['gone', 'failing']).nullable(),
  disabled_at: NullableString,
  created_at: z.string(),
  /** While a rotated-out secret still signs too: when it stops. */
  previous_secret_expires_at: NullableString,
}));
export type WebhookEndpointBody = z.infer<typeof WebhookEndpointBody>;

export const CreatedWebhookEndpoint = /* @__PURE__ */ defineSchema(() => WebhookEndpointBody.extend({ secret: z.string() }));
export const WebhookEndpointList = /* @__PURE__ */ defineSchema(() => listOf(WebhookEndpointBody));

/** `POST /v1/webhook-endpoints/{id}/rotate-secret` body (optional). */
export const RotateWebhookSecretRequest = /* @__PURE__ */ defineSchema(() => z.strictObject({
  /** How long the old secret keeps signing beside the new one. @default 86400 (24 h) */
  expire_previous_in_seconds: Int.min(0).max(7 * 86_400).default(86_400),
}));
export const RotatedWebhookSecret = /* @__PURE__ */ defineSchema(() => WebhookEndpointBody.extend({ secret: z.string() }));

/** One attempt to deliver: what the receiver answered, or why there was no answer. */
export const WebhookAttemptBody = /* @__PURE__ */ defineSchema(() => z.object({
  at: z.string(),
  status_code: Int.nullable(),
  duration_ms: Int,
  error: NullableString,
  /** The start of the receiver's response body (at most 1 KiB). */
  response: NullableString,
}));

export const WebhookDeliveryStatus = /* @__PURE__ */ defineSchema(() => z.enum(['pending', 'succeeded', 'failed']));

/** One event to one endpoint; `id` is the `webhook-id` header, the same on every attempt. */
export const WebhookDeliveryBody = /* @__PURE__ */ defineSchema(() => z.object({
  id: z.string(),
  object: z.literal('webhook_delivery'),
  endpoint_id: z.string(),
  event_id: z.string(),
  event_type: z.string(),
  status: WebhookDeliveryStatus,
  created_at: z.string(),
  attempt_count: Int,
  attempts: z.array(WebhookAttemptBody),
  /** When the next attempt is due; null once it succeeded or was given up. */
  next_attempt_at: NullableString,
  /** Why it was given up without an attempt (e.g. the endpoint was disabled), else null. */
  failure_reason: NullableString,
}));
export type WebhookDeliveryBody = z.infer<typeof WebhookDeliveryBody>;

export const ListWebhookDeliveriesQuery = /* @__PURE__ */ defineSchema(() => ListQuery.extend({ status: WebhookDeliveryStatus.optional() }));
export const WebhookDeliveryList = /* @__PURE__ */ defineSchema(() => listOf(WebhookDeliveryBody));

/** What a receiver gets: the body of every webhook request. */
export const WebhookPayload = /* @__PURE__ */ defineSchema(() => z.object({
  type: WebhookEventType,
  timestamp: z.string(),
  data: z.record(z.string(), z.unknown()),
}));

import * as z from 'zod';
import { defineSchema } from '../define-schema';
import { Int, NonEmptyString, NullableString } from '../values';
import { ListQuery, MoneyBody, NullableTimestamp, Timestamp, listOf } from './common';
import { JobBody } from './jobs';
import { CreditBody } from './vouchers';

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
]).meta({ id: 'WebhookEventType' }));
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
  events: z.array(z.union([z.literal('*'), WebhookEventType])).describe('The event types sent to this endpoint; `["*"]` for every type, including ones added later.'),
  description: NullableString,
  /** `disabled`: deliveries stopped, because the receiver answered 410 Gone (`gone`) or failed every attempt for 5 days (`failing`). */
  status: z.enum(['enabled', 'disabled']),
  disabled_reason: z.enum(['gone', 'failing']).nullable(),
  disabled_at: NullableTimestamp,
  created_at: Timestamp,
  /** While a rotated-out secret still signs too: when it stops. */
  previous_secret_expires_at: NullableTimestamp,
}).meta({ id: 'WebhookEndpoint' }));
export type WebhookEndpointBody = z.infer<typeof WebhookEndpointBody>;

export const CreatedWebhookEndpoint = /* @__PURE__ */ defineSchema(() => WebhookEndpointBody.extend({ secret: z.string().describe('The signing secret, `whsec_…`: shown this once.') }).meta({ id: 'CreatedWebhookEndpoint' }));
export const WebhookEndpointList = /* @__PURE__ */ defineSchema(() => listOf(WebhookEndpointBody, 'WebhookEndpointList'));

/** `POST /v1/webhook-endpoints/{id}/rotate-secret` body (optional). */
export const RotateWebhookSecretRequest = /* @__PURE__ */ defineSchema(() => z.strictObject({
  /** How long the old secret keeps signing beside the new one. @default 86400 (24 h) */
  expire_previous_in_seconds: Int.min(0).max(7 * 86_400).default(86_400).describe('How long the old secret keeps signing beside the new one.'),
}).meta({ id: 'RotateWebhookSecretRequest' }));
export const RotatedWebhookSecret = /* @__PURE__ */ defineSchema(() => WebhookEndpointBody.extend({ secret: z.string().describe('The new signing secret, `whsec_…`: shown this once.') }).meta({ id: 'RotatedWebhookSecret' }));

/** One attempt to deliver: what the receiver answered, or why there was no answer. */
export const WebhookAttemptBody = /* @__PURE__ */ defineSchema(() => z.object({
  at: Timestamp,
  status_code: Int.nullable(),
  duration_ms: Int,
  error: NullableString,
  /** The start of the receiver's response body (at most 1 KiB). */
  response: NullableString,
}).meta({ id: 'WebhookAttempt' }));

export const WebhookDeliveryStatus = /* @__PURE__ */ defineSchema(() => z.enum(['pending', 'succeeded', 'failed']).meta({ id: 'WebhookDeliveryStatus' }));

/** One event to one endpoint; `id` is the `webhook-id` header, the same on every attempt. */
export const WebhookDeliveryBody = /* @__PURE__ */ defineSchema(() => z.object({
  id: z.string(),
  object: z.literal('webhook_delivery'),
  endpoint_id: z.string(),
  event_id: z.string(),
  event_type: WebhookEventType,
  status: WebhookDeliveryStatus,
  created_at: Timestamp,
  attempt_count: Int,
  attempts: z.array(WebhookAttemptBody),
  /** When the next attempt is due; null once it succeeded or was given up. */
  next_attempt_at: NullableTimestamp,
  /** Why it was given up without an attempt (e.g. the endpoint was disabled), else null. */
  failure_reason: NullableString,
}).meta({ id: 'WebhookDelivery' }));
export type WebhookDeliveryBody = z.infer<typeof WebhookDeliveryBody>;

export const ListWebhookDeliveriesQuery = /* @__PURE__ */ defineSchema(() => ListQuery.extend({ status: WebhookDeliveryStatus.optional() }));
export const WebhookDeliveryList = /* @__PURE__ */ defineSchema(() => listOf(WebhookDeliveryBody, 'WebhookDeliveryList'));

const JobWebhookTypes = ['job.queued', 'job.starting', 'job.running', 'job.succeeded', 'job.failed', 'job.cancelled'] as const;

/** The body of a job event's webhook: the job as it was right after the event. */
export const JobWebhookEvent = /* @__PURE__ */ defineSchema(() => z.object({
  type: z.enum(JobWebhookTypes),
  timestamp: Timestamp,
  data: z.object({ job: JobBody }),
}).meta({ id: 'JobWebhookEvent', description: 'A job changed status: the job object as it was right after the change.' }));

/** The body of `credit.added`: the credit as `GET /v1/account` lists it when granted. */
export const CreditAddedWebhookEvent = /* @__PURE__ */ defineSchema(() => z.object({
  type: z.literal('credit.added'),
  timestamp: Timestamp,
  data: z.object({
    credit: z.object({
      id: z.string(),
      source: CreditBody.shape.source,
      voucher_id: z.string(),
      amount: MoneyBody,
      expires_at: NullableTimestamp,
      recurrence: z.enum(['monthly']).nullable(),
      period: z.string(),
      granted_at: Timestamp,
    }),
  }),
}).meta({ id: 'CreditAddedWebhookEvent', description: 'A credit was added to the account (a voucher redeemed, or a month of a monthly one).' }));

/** The body of `balance.low`: which balance fell below 10% of what was granted. */
export const BalanceLowWebhookEvent = /* @__PURE__ */ defineSchema(() => z.object({
  type: z.literal('balance.low'),
  timestamp: Timestamp,
  data: z.object({
    balance: z.object({
      source: z.enum(['trial', 'credit']),
      credit_id: NullableString.describe('The credit; null for the trial.'),
      unit: z.enum(['gpu_seconds', 'fen']).describe('GPU-seconds for the trial, fen for a credit.'),
      granted: Int,
      remaining: Int,
      at: Timestamp,
    }),
  }),
}).meta({ id: 'BalanceLowWebhookEvent', description: 'The trial or a credit fell below 10% of what was granted (once per crossing).' }));

/** What a receiver gets: the body of every webhook request, by `type`. */
export const WebhookPayload = /* @__PURE__ */ defineSchema(() => z
  .union([JobWebhookEvent, CreditAddedWebhookEvent, BalanceLowWebhookEvent])
  .meta({ id: 'WebhookEvent', description: 'The body of a webhook request (Standard Webhooks): `type`, `timestamp` and `data`.' }));
export type WebhookPayload = z.infer<typeof WebhookPayload>;

import { z } from 'zod';
import { MoneyBody } from '../events/api/common';

/**
 * Response schemas for the resources whose server-side wire schemas are not in `events/api/` yet
 * (vouchers, usage, webhooks, extra API keys: issues 3, 5 and 7). They hold only the fields API.md
 * fixes and are `.loose()`, so the fields those routes add pass through untouched. Once the routes
 * land, each of these should be replaced by an import of the server's schema.
 */

/** `POST /v1/vouchers/redeem` → 200. */
export const RedeemResponse = z
  .object({
    credit: z.object({ id: z.string(), remaining: MoneyBody, expires_at: z.string().nullable() }).loose(),
  })
  .loose();
export type RedeemResponse = z.infer<typeof RedeemResponse>;

/** One line of `GET /v1/usage`. */
export const UsageLine = z
  .object({
    job_id: z.string(),
    gpu_type: z.string(),
    gpu_seconds: z.number().int(),
    trial_gpu_seconds: z.number().int(),
    cost: MoneyBody,
    period_start: z.string(),
    period_end: z.string(),
  })
  .loose();
export type UsageLine = z.infer<typeof UsageLine>;

/** `GET /v1/usage` → 200. `total` sums the lines; its exact shape is the server's. */
export const UsageReport = z
  .object({
    data: z.array(UsageLine),
    total: z
      .object({ gpu_seconds: z.number().int().optional(), trial_gpu_seconds: z.number().int().optional(), cost: MoneyBody.optional() })
      .loose(),
  })
  .loose();
export type UsageReport = z.infer<typeof UsageReport>;

/** A webhook endpoint as listed (the secret only in the answer to its creation). */
export const WebhookEndpoint = z
  .object({ id: z.string(), url: z.string(), events: z.array(z.string()), created_at: z.string().optional() })
  .loose();
export type WebhookEndpoint = z.infer<typeof WebhookEndpoint>;

/** `POST /v1/webhook-endpoints` → 201: the endpoint and its signing secret, shown once. */
export const CreatedWebhookEndpoint = WebhookEndpoint.extend({ secret: z.string() }).loose();
export type CreatedWebhookEndpoint = z.infer<typeof CreatedWebhookEndpoint>;

/** `POST /v1/webhook-endpoints` body. */
export const CreateWebhookEndpointRequest = z.strictObject({
  url: z.url(),
  events: z.array(z.string()).min(1).optional(),
});
export type CreateWebhookEndpointRequest = z.infer<typeof CreateWebhookEndpointRequest>;

/** One delivery of an event to an endpoint: its last attempt's status code and time, and the next retry. */
export const WebhookDelivery = z
  .object({
    id: z.string(),
    event_id: z.string().optional(),
    event_type: z.string().optional(),
    status: z.string().optional(),
    attempts: z.number().int().optional(),
    status_code: z.number().int().nullable().optional(),
    created_at: z.string().optional(),
    last_attempt_at: z.string().nullable().optional(),
    next_retry_at: z.string().nullable().optional(),
  })
  .loose();
export type WebhookDelivery = z.infer<typeof WebhookDelivery>;

/**
 * A list answer: `data` always; `has_more`/`next_cursor` when the route pages (API.md's
 * convention), absent on routes that answer everything at once.
 */
export const looseListOf = <T extends z.ZodType>(item: T) =>
  z.object({ data: z.array(item), has_more: z.boolean().optional(), next_cursor: z.string().nullable().optional() }).loose();

/** `POST /v1/api-keys` → 201. */
export const CreatedApiKey = z.object({ id: z.string(), api_key: z.string() }).loose();
export type CreatedApiKey = z.infer<typeof CreatedApiKey>;

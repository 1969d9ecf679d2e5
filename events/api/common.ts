import * as z from 'zod';
import { defineSchema } from '../define-schema';
import { Int, NullableString } from '../values';

/**
 * Wire schemas shared by every API resource. `events/api/` holds the public HTTP contract (API.md)
 * as zod schemas: the server validates with them, the OpenAPI document and the SDK derive from them.
 * They import nothing but zod, so the SDK can use them in a browser.
 */
export const MoneyBody = /* @__PURE__ */ defineSchema(() => z
  .strictObject({ amount: Int.describe('Integer minor units (fen): 1250 is ¥12.50.'), currency: z.literal('CNY') })
  .meta({ id: 'Money', description: 'An amount of money in integer minor units.', examples: [{ amount: 1250, currency: 'CNY' }] }));

/** An ISO 8601 time as the API writes it (always UTC, `Z`); JSON Schema's `date-time`. */
export const Timestamp = /* @__PURE__ */ defineSchema(() => z.iso.datetime({ offset: true }).meta({ examples: ['2026-11-25T12:00:00.000Z'] }));
export const NullableTimestamp = /* @__PURE__ */ defineSchema(() => Timestamp.nullable());

/** `?limit=&cursor=` of every list (API.md: 1–100, default 20; the cursor is opaque). */
export const ListQuery = /* @__PURE__ */ defineSchema(() => z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(512).optional(),
}));

/** A page of a list, newest first. */
export const listOf = <T extends z.ZodType>(item: T, id: string) =>
  z
    .object({ object: z.literal('list'), data: z.array(item), has_more: z.boolean(), next_cursor: NullableString.describe('Pass as `?cursor=` for the next page; null on the last.') })
    .meta({ id, description: 'A page of a list, newest first.' });

/**
 * Every problem `type` the API answers with, and the status it always comes with (API.md's slugs).
 * `internal_error` (500) is a defect, never an answer to bad input.
 */
export const problemStatuses = {
  invalid_request: 400,
  unauthorized: 401,
  insufficient_balance: 402,
  account_suspended: 403,
  not_found: 404,
  request_timeout: 408,
  conflict: 409,
  invalid_state: 409,
  quota_exceeded: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  idempotency_key_reuse: 422,
  invalid_upload: 422,
  rate_limited: 429,
  request_header_fields_too_large: 431,
  internal_error: 500,
} as const;
export type ProblemType = keyof typeof problemStatuses;

export const ProblemTypeBody = /* @__PURE__ */ defineSchema(() => z
  .enum(Object.keys(problemStatuses) as [ProblemType, ...ProblemType[]])
  .meta({ id: 'ProblemType', description: 'What went wrong, as a stable slug; each comes with one HTTP status.' }));

/** RFC 9457 problem details, as every error is answered. */
export const Problem = /* @__PURE__ */ defineSchema(() => z.object({
  type: ProblemTypeBody,
  title: z.string(),
  status: Int,
  detail: z.string().optional(),
  errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  /** With 409 `quota_exceeded`: which quota of the account, and its limit. */
  quota: z.object({ name: z.enum(['concurrent_gpus', 'storage_bytes']), limit: Int }).optional(),
  request_id: z.string().optional(),
}).meta({
  id: 'Problem',
  description: 'RFC 9457 problem details (`application/problem+json`): every error the API answers.',
  examples: [{ type: 'not_found', title: 'Not found', status: 404, detail: 'No such job', request_id: '5f0c6a52-8a4e-4c39-9d43-0b1f1b1c2d3e' }],
}));
export type Problem = z.infer<typeof Problem>;

/**
 * A problem as a client reads it: a newer server may answer a `type` this version does not know yet,
 * and the client must still show it.
 */
export const AnyProblem = /* @__PURE__ */ defineSchema(() => Problem.extend({ type: z.string() }));
export type AnyProblem = z.infer<typeof AnyProblem>;

import * as z from 'zod';
import { defineSchema } from '../define-schema';
import { Int, NullableString } from '../values';

/**
 * Wire schemas shared by every API resource. `events/api/` holds the public HTTP contract (API.md)
 * as zod schemas: the server validates with them, the OpenAPI document and the SDK derive from them.
 * They import nothing but zod, so the SDK can use them in a browser.
 */
export const MoneyBody = /* @__PURE__ */ defineSchema(() => z.object({ amount: Int, currency: z.literal('CNY') }));

/** `?limit=&cursor=` of every list (API.md: 1–100, default 20; the cursor is opaque). */
export const ListQuery = /* @__PURE__ */ defineSchema(() => z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(512).optional(),
}));

/** A page of a list, newest first. */
export const listOf = <T extends z.ZodType>(item: T) =>
  z.object({ object: z.literal('list'), data: z.array(item), has_more: z.boolean(), next_cursor: NullableString });

/** RFC 9457 problem details, as every error is answered. */
export const Problem = /* @__PURE__ */ defineSchema(() => z.object({
  type: z.string(),
  title: z.string(),
  status: Int,
  detail: z.string().optional(),
  errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  /** With 409 `quota_exceeded`: which quota of the account, and its limit. */
  quota: z.object({ name: z.enum(['concurrent_gpus', 'storage_bytes']), limit: Int }).optional(),
  request_id: z.string().optional(),
}));
export type Problem = z.infer<typeof Problem>;

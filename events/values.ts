import * as z from 'zod';
import { defineSchema } from './define-schema';

/*
 * Shared building blocks. zod schemas are immutable, so one instance can sit in any number of
 * schemas; and every chained call (`z.number().int().positive()`) constructs a new schema at module
 * load, which is most of a Lambda's cold start that is our own code (BENCHMARKS.md, "Lambda
 * bundles"). JSON Schema output is unchanged: `z.toJSONSchema` inlines reused schemas.
 */
export const Int = /* @__PURE__ */ defineSchema(() => z.number().int());
export const NonNegativeInt = /* @__PURE__ */ defineSchema(() => Int.nonnegative());
export const PositiveInt = /* @__PURE__ */ defineSchema(() => Int.positive());
export const NonEmptyString = /* @__PURE__ */ defineSchema(() => z.string().min(1));
export const NullableString = /* @__PURE__ */ defineSchema(() => z.string().nullable());

/** GPU types the service sells. Only A100s (p4d.24xlarge, 8 per node) for now. */
export const GpuType = /* @__PURE__ */ defineSchema(() => z.enum(['a100']));
export type GpuType = z.infer<typeof GpuType>;

/** ISO 8601 UTC timestamp, e.g. `2026-11-25T12:00:00.000Z`. */
export const IsoTime = /* @__PURE__ */ defineSchema(() => z.iso.datetime());
export type IsoTime = z.infer<typeof IsoTime>;

/** Money in integer minor units (fen for CNY). Never a float. */
export const Money = /* @__PURE__ */ defineSchema(() => z.object({
  amount: Int,
  currency: z.literal('CNY'),
}));
export type Money = z.infer<typeof Money>;

export const AccountId = /* @__PURE__ */ defineSchema(() => z.string().regex(/^acct_[0-9a-z]{26}$/));
export const JobId = /* @__PURE__ */ defineSchema(() => z.string().regex(/^job_[0-9a-z]{26}$/));
export const ApiKeyId = /* @__PURE__ */ defineSchema(() => z.string().regex(/^key_[0-9a-z]{26}$/));

/** Why a job failed, exactly as the public API names it. */
export const FailureReason = /* @__PURE__ */ defineSchema(() => z.enum([
  'insufficient_balance',
  'max_runtime_exceeded',
  'non_zero_exit',
  'infrastructure',
]));
export type FailureReason = z.infer<typeof FailureReason>;

/** What a finished job used and how it was paid: GPU-seconds, the trial's share, and the money charged. */
export const Usage = /* @__PURE__ */ defineSchema(() => z.object({
  gpuSeconds: NonNegativeInt,
  trialGpuSeconds: NonNegativeInt,
  cost: Money,
}));
export type Usage = z.infer<typeof Usage>;

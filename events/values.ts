import { z } from 'zod';

/** GPU types the service sells. Only A100s (p4d.24xlarge, 8 per node) for now. */
export const GpuType = z.enum(['a100']);
export type GpuType = z.infer<typeof GpuType>;

/** ISO 8601 UTC timestamp, e.g. `2026-11-25T12:00:00.000Z`. */
export const IsoTime = z.iso.datetime();
export type IsoTime = z.infer<typeof IsoTime>;

/** Money in integer minor units (fen for CNY). Never a float. */
export const Money = z.object({
  amount: z.number().int(),
  currency: z.literal('CNY'),
});
export type Money = z.infer<typeof Money>;

export const AccountId = z.string().regex(/^acct_[0-9a-z]{26}$/);
export const JobId = z.string().regex(/^job_[0-9a-z]{26}$/);
export const ApiKeyId = z.string().regex(/^key_[0-9a-z]{26}$/);

/** Why a job failed, exactly as the public API names it. */
export const FailureReason = z.enum([
  'insufficient_balance',
  'max_runtime_exceeded',
  'non_zero_exit',
  'infrastructure',
]);
export type FailureReason = z.infer<typeof FailureReason>;

/** What a finished job used and how it was paid: GPU-seconds, the trial's share, and the money charged. */
export const Usage = z.object({
  gpuSeconds: z.number().int().nonnegative(),
  trialGpuSeconds: z.number().int().nonnegative(),
  cost: Money,
});
export type Usage = z.infer<typeof Usage>;

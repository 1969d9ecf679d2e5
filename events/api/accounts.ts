import * as z from 'zod';
import { defineSchema } from '../define-schema';
import { Int } from '../values';
import { MoneyBody, Timestamp } from './common';
import { CreditBody } from './vouchers';

export const SignupRequest = /* @__PURE__ */ defineSchema(() => z.strictObject({ email: z.email().max(254) }));
export type SignupRequest = z.infer<typeof SignupRequest>;

export const SignupResponse = /* @__PURE__ */ defineSchema(() => z.object({
  account: z.object({ id: z.string(), email: z.string() }),
  /** Shown once: only its hash is stored. */
  api_key: z.string().describe('The account\'s first API key, `sk_…`: shown this once.'),
}).meta({ id: 'Signup' }));

export const AccountBody = /* @__PURE__ */ defineSchema(() => z.object({
  id: z.string(),
  object: z.literal('account'),
  email: z.string(),
  created_at: Timestamp,
  trial: z.object({
    gpu_type: z.literal('a100'),
    gpu_seconds_granted: Int,
    gpu_seconds_remaining: Int,
    gpu_seconds_used: Int,
  }),
  /** Credits that can still pay (not expired, or still holding money for a running job), in spending order. */
  credits: z.array(CreditBody),
  /** What open holds reserve: trial GPU-seconds and credit money. */
  held: z.object({ gpu_seconds: Int, amount: MoneyBody }),
  /** What new jobs can draw on now: the trial's free GPU-seconds and the spendable credits' money. */
  available: z.object({ trial_gpu_seconds: Int, amount: MoneyBody }),
  /** Bytes the account's files take (uploading ones for their declared size) and its quota. */
  storage: z.object({ used_bytes: Int, quota_bytes: Int }),
}).meta({ id: 'Account', description: 'The account: its trial, credits, what is held and available, and storage.' }));
export type AccountBody = z.infer<typeof AccountBody>;

import { z } from 'zod';
import { MoneyBody } from './common';
import { CreditBody } from './vouchers';

export const SignupRequest = z.strictObject({ email: z.email().max(254) });
export type SignupRequest = z.infer<typeof SignupRequest>;

export const SignupResponse = z.object({
  account: z.object({ id: z.string(), email: z.string() }),
  /** Shown once: only its hash is stored. */
  api_key: z.string(),
});

export const AccountBody = z.object({
  id: z.string(),
  object: z.literal('account'),
  email: z.string(),
  created_at: z.string(),
  trial: z.object({
    gpu_type: z.literal('a100'),
    gpu_seconds_granted: z.number().int(),
    gpu_seconds_remaining: z.number().int(),
    gpu_seconds_used: z.number().int(),
  }),
  /** Credits that can still pay (not expired, or still holding money for a running job), in spending order. */
  credits: z.array(CreditBody),
  /** What open holds reserve: trial GPU-seconds and credit money. */
  held: z.object({ gpu_seconds: z.number().int(), amount: MoneyBody }),
  /** What new jobs can draw on now: the trial's free GPU-seconds and the spendable credits' money. */
  available: z.object({ trial_gpu_seconds: z.number().int(), amount: MoneyBody }),
});
export type AccountBody = z.infer<typeof AccountBody>;

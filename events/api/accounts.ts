import { z } from 'zod';
import { MoneyBody } from './common';

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
  credits: z.array(
    z.object({ id: z.string(), source: z.string(), remaining: MoneyBody, expires_at: z.string().nullable() }).loose(),
  ),
  held: z.object({ gpu_seconds: z.number().int(), amount: MoneyBody }),
});
export type AccountBody = z.infer<typeof AccountBody>;

import * as z from 'zod';
import { defineSchema } from '../define-schema';
import { GpuType, Int } from '../values';
import { MoneyBody } from './common';

/** `GET /v1/prices`: what a GPU-hour costs, per GPU type, and the rules a new job's hold follows. */
export const PriceList = /* @__PURE__ */ defineSchema(() => z.object({
  object: z.literal('list'),
  data: z.array(z.object({
    gpu_type: GpuType,
    /** Per GPU per hour; billed by the second. */
    per_gpu_hour: MoneyBody,
  })),
  /** A job is accepted only if the account can pay this many seconds of it (else 402). */
  minimum_held_seconds: Int,
  /** Seconds between SIGTERM and SIGKILL when a job is stopped, held on top of its runtime. */
  stop_grace_seconds: Int,
  /** A100 GPU-seconds a new account's trial pays. */
  trial_gpu_seconds: Int,
}).meta({ id: 'PriceList' }));
export type PriceList = z.infer<typeof PriceList>;

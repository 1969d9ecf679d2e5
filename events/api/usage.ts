import * as z from 'zod';
import { defineSchema } from '../define-schema';
import { GpuType, Int, NullableString } from '../values';
import { MoneyBody, Timestamp } from './common';

/** `GET /v1/usage` query: lines whose billed period ended in [from, to). Both optional. */
export const UsageQuery = /* @__PURE__ */ defineSchema(() => z
  .strictObject({
    from: z.iso.datetime({ offset: true }).optional(),
    to: z.iso.datetime({ offset: true }).optional(),
  })
  .refine((q) => !q.from || !q.to || Date.parse(q.from) <= Date.parse(q.to), { message: 'from must not be after to', path: ['from'] }));

/** One usage line: what one funding source (the trial or one credit) paid for one job. */
export const UsageLineBody = /* @__PURE__ */ defineSchema(() => z.object({
  job_id: z.string(),
  gpu_type: GpuType,
  gpu_seconds: Int,
  trial_gpu_seconds: Int,
  cost: MoneyBody,
  /** `trial` or `credit`. */
  source: z.enum(['trial', 'credit']),
  credit_id: NullableString,
  period_start: Timestamp,
  period_end: Timestamp,
}).meta({ id: 'UsageLine', description: 'What one funding source (the trial or one credit) paid for one job.' }));

export const UsageBody = /* @__PURE__ */ defineSchema(() => z.object({
  object: z.literal('usage'),
  data: z.array(UsageLineBody),
  total: z.object({ gpu_seconds: Int, trial_gpu_seconds: Int, cost: MoneyBody }),
}).meta({ id: 'Usage', description: 'Usage lines and their total: every GPU-second is paid once.' }));

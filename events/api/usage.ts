import { z } from 'zod';
import { GpuType } from '../values';
import { MoneyBody } from './common';

/** `GET /v1/usage` query: lines whose billed period ended in [from, to). Both optional. */
export const UsageQuery = z
  .strictObject({
    from: z.iso.datetime({ offset: true }).optional(),
    to: z.iso.datetime({ offset: true }).optional(),
  })
  .refine((q) => !q.from || !q.to || Date.parse(q.from) <= Date.parse(q.to), { message: 'from must not be after to', path: ['from'] });

/** One usage line: what one funding source (the trial or one credit) paid for one job. */
export const UsageLineBody = z.object({
  job_id: z.string(),
  gpu_type: GpuType,
  gpu_seconds: z.number().int(),
  trial_gpu_seconds: z.number().int(),
  cost: MoneyBody,
  /** `trial` or `credit`. */
  source: z.enum(['trial', 'credit']),
  credit_id: z.string().nullable(),
  period_start: z.string(),
  period_end: z.string(),
});

export const UsageBody = z.object({
  object: z.literal('usage'),
  data: z.array(UsageLineBody),
  total: z.object({ gpu_seconds: z.number().int(), trial_gpu_seconds: z.number().int(), cost: MoneyBody }),
});

import * as z from 'zod';
import { defineSchema } from './define-schema';
import { Int } from './values';

/**
 * An EventBridge "Batch Job State Change" event, parsed leniently: AWS adds fields over time, so
 * unknown keys are kept and only what we use is required.
 * See https://docs.aws.amazon.com/batch/latest/userguide/batch_job_events.html
 */
export const BatchJobStatus = /* @__PURE__ */ defineSchema(() => z.enum([
  'SUBMITTED',
  'PENDING',
  'RUNNABLE',
  'STARTING',
  'RUNNING',
  'SUCCEEDED',
  'FAILED',
]));
export type BatchJobStatus = z.infer<typeof BatchJobStatus>;

const Attempt = /* @__PURE__ */ defineSchema(() => z.looseObject({
  container: z.looseObject({ exitCode: Int.optional(), reason: z.string().optional() }).optional(),
  startedAt: z.number().optional(),
  stoppedAt: z.number().optional(),
  statusReason: z.string().optional(),
}));

export const BatchJobStateChange = /* @__PURE__ */ defineSchema(() => z.looseObject({
  id: z.string(),
  'detail-type': z.literal('Batch Job State Change'),
  source: z.literal('aws.batch'),
  time: z.string(),
  detail: z.looseObject({
    jobName: z.string(),
    jobId: z.string(),
    status: BatchJobStatus,
    statusReason: z.string().optional(),
    createdAt: z.number().optional(),
    /** Epoch milliseconds. */
    startedAt: z.number().optional(),
    stoppedAt: z.number().optional(),
    attempts: z.array(Attempt).optional(),
    container: z.looseObject({ exitCode: Int.optional(), reason: z.string().optional() }).optional(),
    tags: z.record(z.string(), z.string()).optional(),
  }),
}));
export type BatchJobStateChange = z.infer<typeof BatchJobStateChange>;

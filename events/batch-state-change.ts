import { z } from 'zod';

/**
 * An EventBridge "Batch Job State Change" event, parsed leniently: AWS adds fields over time, so
 * unknown keys are kept and only what we use is required.
 * See https://docs.aws.amazon.com/batch/latest/userguide/batch_job_events.html
 */
export const BatchJobStatus = z.enum([
  'SUBMITTED',
  'PENDING',
  'RUNNABLE',
  'STARTING',
  'RUNNING',
  'SUCCEEDED',
  'FAILED',
]);
export type BatchJobStatus = z.infer<typeof BatchJobStatus>;

const Attempt = z.looseObject({
  container: z.looseObject({ exitCode: z.number().int().optional(), reason: z.string().optional() }).optional(),
  startedAt: z.number().optional(),
  stoppedAt: z.number().optional(),
  statusReason: z.string().optional(),
});

export const BatchJobStateChange = z.looseObject({
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
    container: z.looseObject({ exitCode: z.number().int().optional(), reason: z.string().optional() }).optional(),
    tags: z.record(z.string(), z.string()).optional(),
  }),
});
export type BatchJobStateChange = z.infer<typeof BatchJobStateChange>;

import { z } from 'zod';
import { CreditPortion } from './account-events';
import { AccountId, FailureReason, GpuType, IsoTime, JobId, Usage } from './values';

/**
 * Events of one job's stream (`job#<id>`). Shipped events are never edited: a change is a new
 * `schemaVersion` plus an upcaster.
 */
export const JobQueued = z.object({
  type: z.literal('JobQueued'),
  data: z.object({
    jobId: JobId,
    accountId: AccountId,
    name: z.string().nullable(),
    image: z.string(),
    command: z.array(z.string()).min(1),
    env: z.record(z.string(), z.string()),
    gpuType: GpuType,
    gpuCount: z.number().int().positive(),
    maxRuntimeSeconds: z.number().int().positive(),
    /** Wall-clock seconds the hold pays for, stop grace included. The job never runs longer. */
    heldSeconds: z.number().int().positive(),
    /** Seconds between SIGTERM and SIGKILL when the job is stopped. */
    graceSeconds: z.number().int().nonnegative(),
    /** Why the job would be stopped at `heldSeconds - graceSeconds`: it ran out of money or of runtime. */
    stopReason: z.enum(['insufficient_balance', 'max_runtime_exceeded']),
    /** GPU-seconds of the hold paid by the trial (the rest, later, by credits). */
    trialGpuSeconds: z.number().int().nonnegative(),
    /** Fen per GPU-hour, fixed for this job when its hold was placed. Absent on trial-only jobs of old. */
    ratePerGpuHour: z.number().int().nonnegative().optional(),
    /** Each credit's share of the hold, in spending order (the same as the hold's). Absent = none. */
    credits: z.array(CreditPortion).optional(),
    queuedAt: IsoTime,
  }),
});

export const BatchJobSubmitted = z.object({
  type: z.literal('BatchJobSubmitted'),
  data: z.object({ batchJobId: z.string().min(1), submittedAt: IsoTime }),
});

export const JobStarting = z.object({
  type: z.literal('JobStarting'),
  data: z.object({ at: IsoTime }),
});

export const JobRunning = z.object({
  type: z.literal('JobRunning'),
  data: z.object({ startedAt: IsoTime }),
});

/**
 * One attempt of a started job ended and the compute side will try again (a Spot reclaim or a lost
 * host: Batch's retry strategy). The job keeps its id and checkpoint directory; the attempt's running
 * time counts towards the job's billed time and its hold.
 */
export const JobAttemptFailed = z.object({
  type: z.literal('JobAttemptFailed'),
  data: z.object({
    /** 1 for the first attempt. */
    attempt: z.number().int().positive(),
    startedAt: IsoTime.nullable(),
    stoppedAt: IsoTime,
    statusReason: z.string().nullable(),
    exitCode: z.number().int().nullable(),
  }),
});

export const JobCancelRequested = z.object({
  type: z.literal('JobCancelRequested'),
  data: z.object({ requestedAt: IsoTime }),
});

const finished = {
  finishedAt: IsoTime,
  /** Billed wall-clock seconds in `running` (rounded up, capped at the held seconds). */
  runSeconds: z.number().int().nonnegative(),
  usage: Usage,
};

export const JobSucceeded = z.object({
  type: z.literal('JobSucceeded'),
  data: z.object({ ...finished, exitCode: z.number().int() }),
});

export const JobFailed = z.object({
  type: z.literal('JobFailed'),
  data: z.object({
    ...finished,
    reason: FailureReason,
    exitCode: z.number().int().nullable(),
    statusReason: z.string().nullable(),
  }),
});

export const JobCancelled = z.object({
  type: z.literal('JobCancelled'),
  data: z.object(finished),
});

export const JobEvent = z.discriminatedUnion('type', [
  JobQueued,
  BatchJobSubmitted,
  JobStarting,
  JobRunning,
  JobAttemptFailed,
  JobCancelRequested,
  JobSucceeded,
  JobFailed,
  JobCancelled,
]);
export type JobEvent = z.infer<typeof JobEvent>;
export type JobEventType = JobEvent['type'];
export type JobQueued = z.infer<typeof JobQueued>;

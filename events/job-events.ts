import * as z from 'zod';
import { defineSchema } from './define-schema';
import { CreditPortion } from './account-events';
import { AccountId, FailureReason, GpuType, Int, IsoTime, JobId, NonEmptyString, NonNegativeInt, NullableString, PositiveInt, Usage } from './values';

/**
 * Events of one job's stream (`job#<id>`). Shipped events are never edited: a change is a new
 * `schemaVersion` plus an upcaster.
 */
/** One input of a job: a ready file of the account, or a final job's whole output directory. */
export const JobInput = /* @__PURE__ */ defineSchema(() => z.discriminatedUnion('kind', [
  z.object({ name: z.string(), kind: z.literal('file'), fileId: z.string(), key: z.string(), filename: z.string(), extract: z.boolean() }),
  z.object({ name: z.string(), kind: z.literal('job'), jobId: z.string(), prefix: z.string() }),
]));
export type JobInput = z.infer<typeof JobInput>;

export const JobQueued = /* @__PURE__ */ defineSchema(() => z.object({
  type: z.literal('JobQueued'),
  data: z.object({
    jobId: JobId,
    accountId: AccountId,
    name: NullableString,
    image: z.string(),
    command: z.array(z.string()).min(1),
    env: z.record(z.string(), z.string()),
    gpuType: GpuType,
    gpuCount: PositiveInt,
    maxRuntimeSeconds: PositiveInt,
    /** Wall-clock seconds the hold pays for, stop grace included. The job never runs longer. */
    heldSeconds: PositiveInt,
    /** Seconds between SIGTERM and SIGKILL when the job is stopped. */
    graceSeconds: NonNegativeInt,
    /** Why the job would be stopped at `heldSeconds - graceSeconds`: it ran out of money or of runtime. */
    stopReason: z.enum(['insufficient_balance', 'max_runtime_exceeded']),
    /** GPU-seconds of the hold paid by the trial (the rest, later, by credits). */
    trialGpuSeconds: NonNegativeInt,
    /** Fen per GPU-hour, fixed for this job when its hold was placed. Absent on trial-only jobs of old. */
    ratePerGpuHour: NonNegativeInt.optional(),
    /** Each credit's share of the hold, in spending order (the same as the hold's). Absent = none. */
    credits: z.array(CreditPortion).optional(),
    /** The job's own metrics: each regex's first capture group on each log line. Absent = read JSON lines. */
    metricDefinitions: z.array(z.object({ name: z.string(), regex: z.string() })).optional(),
    /** What the job reads, resolved to where the bytes are when it was accepted. Absent = none. */
    inputs: z.array(JobInput).optional(),
    queuedAt: IsoTime,
  }),
}));

export const BatchJobSubmitted = /* @__PURE__ */ defineSchema(() => z.object({
  type: z.literal('BatchJobSubmitted'),
  data: z.object({ batchJobId: NonEmptyString, submittedAt: IsoTime }),
}));

export const JobStarting = /* @__PURE__ */ defineSchema(() => z.object({
  type: z.literal('JobStarting'),
  data: z.object({ at: IsoTime }),
}));

export const JobRunning = /* @__PURE__ */ defineSchema(() => z.object({
  type: z.literal('JobRunning'),
  data: z.object({ startedAt: IsoTime }),
}));

/**
 * One attempt of a started job ended and the compute side will try again (a Spot reclaim or a lost
 * host: Batch's retry strategy). The job keeps its id and checkpoint directory; the attempt's running
 * time counts towards the job's billed time and its hold.
 */
export const JobAttemptFailed = /* @__PURE__ */ defineSchema(() => z.object({
  type: z.literal('JobAttemptFailed'),
  data: z.object({
    /** 1 for the first attempt. */
    attempt: PositiveInt,
    startedAt: IsoTime.nullable(),
    stoppedAt: IsoTime,
    statusReason: NullableString,
    exitCode: Int.nullable(),
  }),
}));

export const JobCancelRequested = /* @__PURE__ */ defineSchema(() => z.object({
  type: z.literal('JobCancelRequested'),
  data: z.object({ requestedAt: IsoTime }),
}));

/**
 * The service decided to stop a running job before its command ended: its hold ran out (the reason is
 * the job's `stopReason`, `insufficient_balance` or `max_runtime_exceeded`) or the service lost it
 * (`infrastructure`). The stop itself goes through the compute side (SIGTERM, grace, SIGKILL); the
 * final event that follows carries this reason.
 */
export const JobStopRequested = /* @__PURE__ */ defineSchema(() => z.object({
  type: z.literal('JobStopRequested'),
  data: z.object({ reason: z.enum(['insufficient_balance', 'max_runtime_exceeded', 'infrastructure']), requestedAt: IsoTime }),
}));

const finished = {
  finishedAt: IsoTime,
  /** Billed wall-clock seconds in `running` (rounded up, capped at the held seconds). */
  runSeconds: NonNegativeInt,
  usage: Usage,
};

export const JobSucceeded = /* @__PURE__ */ defineSchema(() => z.object({
  type: z.literal('JobSucceeded'),
  data: z.object({ ...finished, exitCode: Int }),
}));

export const JobFailed = /* @__PURE__ */ defineSchema(() => z.object({
  type: z.literal('JobFailed'),
  data: z.object({
    ...finished,
    reason: FailureReason,
    exitCode: Int.nullable(),
    statusReason: NullableString,
  }),
}));

export const JobCancelled = /* @__PURE__ */ defineSchema(() => z.object({
  type: z.literal('JobCancelled'),
  data: z.object(finished),
}));

export const JobEvent = /* @__PURE__ */ defineSchema(() => z.discriminatedUnion('type', [
  JobQueued,
  BatchJobSubmitted,
  JobStarting,
  JobRunning,
  JobAttemptFailed,
  JobCancelRequested,
  JobStopRequested,
  JobSucceeded,
  JobFailed,
  JobCancelled,
]));
export type JobEvent = z.infer<typeof JobEvent>;
export type JobEventType = JobEvent['type'];
export type JobQueued = z.infer<typeof JobQueued>;
export type StopReason = z.infer<typeof JobStopRequested>['data']['reason'];

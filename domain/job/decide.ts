import type { BatchJobStatus } from '../../events/batch-state-change';
import type { JobEvent, StopReason } from '../../events/job-events';
import type { FailureReason } from '../../events/values';
import { ConflictError, InvalidStateError, NotFoundError } from '../errors';
import {
  billableSeconds,
  billableSecondsOfAttempts,
  isFinal,
  usageOf,
  type EndedAttempt,
  type JobSpec,
  type JobState,
  type KnownJobState,
  evolveJob,
  initialJobState,
} from './job';
import type { StreamDecider } from '../decider';

type Meta = { metadata: { now: string } };

export type QueueJob = { type: 'QueueJob'; data: JobSpec } & Meta;
export type RecordSubmission = { type: 'RecordSubmission'; data: { batchJobId: string } } & Meta;
export type RequestCancel = { type: 'RequestCancel'; data: Record<string, never> } & Meta;
/** The service stops a running job: its hold ran out, or the service lost it. */
export type RequestStop = { type: 'RequestStop'; data: { reason: StopReason } } & Meta;

/**
 * Why the compute side ended an attempt, as the adapter reading its events classifies the compute
 * side's own wording (functions/compute-stop-causes.ts): its per-attempt timeout (the held time's
 * backstop), a fault of the platform (a lost host, a stack shutting down, an input that could not be
 * fetched), or a container that could not start (a bad image or command: the customer's to fix).
 */
export type StopCause = 'timeout' | 'infrastructure' | 'container_start';
/** What the compute side (Batch or the local backend) says about the job. Times are ISO strings. */
export type ObserveCompute = {
  type: 'ObserveCompute';
  data: {
    status: BatchJobStatus;
    /** The compute job's id, recorded if the dispatcher has not recorded it yet. */
    batchJobId?: string;
    startedAt?: string;
    stoppedAt?: string;
    exitCode?: number | null;
    /** The compute side's own words on why the job ended: recorded, never interpreted here (see `cause`). */
    statusReason?: string | null;
    /** Why the compute side ended it, when it did (not the job's own exit). */
    cause?: StopCause | null;
    /**
     * The compute job's attempts as Batch lists them (ended ones; the final one too once the job is
     * final), oldest first. When given, they are the truth for billing: every attempt's running time
     * is counted once. Given as `[]` for a job that never ran (it is then settled at zero).
     */
    attempts?: ObservedAttempt[];
  };
} & Meta;

/** One attempt of a compute job, as Batch lists it. */
export interface ObservedAttempt {
  startedAt?: string;
  stoppedAt?: string;
  statusReason?: string | null;
  exitCode?: number | null;
}

export type JobCommand = QueueJob | RecordSubmission | RequestCancel | RequestStop | ObserveCompute;

/**
 * The job decider. Duplicate and out-of-order compute observations return `[]`; cancelling a
 * finished job throws InvalidStateError.
 */
export function decideJob(command: JobCommand, state: JobState): JobEvent[] {
  const { now } = command.metadata;
  if (command.type === 'QueueJob') {
    if (state.status !== 'none') throw new ConflictError(`Job ${command.data.jobId} already exists`);
    return [{ type: 'JobQueued', data: command.data }];
  }
  if (state.status === 'none') throw new NotFoundError('No such job');
  switch (command.type) {
    case 'RecordSubmission':
      return !isFinal(state) && state.batchJobId === null
        ? [{ type: 'BatchJobSubmitted', data: { batchJobId: command.data.batchJobId, submittedAt: now } }]
        : [];
    case 'RequestCancel':
      return requestCancel(state, now);
    case 'RequestStop':
      // Once: the first reason is the job's; a final job has nothing left to stop.
      return isFinal(state) || state.stopRequested ? [] : [{ type: 'JobStopRequested', data: { reason: command.data.reason, requestedAt: now } }];
    case 'ObserveCompute':
      return observeCompute(state, command.data, now);
    default: {
      const unknown: never = command;
      return unknown;
    }
  }
}

function requestCancel(state: KnownJobState, now: string): JobEvent[] {
  if (isFinal(state)) throw new InvalidStateError(`The job is already ${state.status}`);
  // A job that has not started costs nothing and stops at once; a started one stops through the
  // compute side (SIGTERM, grace, SIGKILL) and is billed for what it ran when that is confirmed.
  if (state.status === 'queued') {
    return [{ type: 'JobCancelled', data: { finishedAt: now, runSeconds: 0, usage: usageOf(state.job, 0) } }];
  }
  if (state.cancelRequestedAt !== null) return [];
  return [{ type: 'JobCancelRequested', data: { requestedAt: now } }];
}

function observeCompute(state: KnownJobState, seen: ObserveCompute['data'], now: string): JobEvent[] {
  if (isFinal(state)) return [];
  const progress = progressOf(state, seen, now);
  // The dispatcher records the compute job's id after submitting; the compute side may report first.
  if (progress.length > 0 && state.batchJobId === null && seen.batchJobId) {
    return [{ type: 'BatchJobSubmitted', data: { batchJobId: seen.batchJobId, submittedAt: now } }, ...progress];
  }
  return progress;
}

function progressOf(state: KnownJobState, seen: ObserveCompute['data'], now: string): JobEvent[] {
  if (seen.status === 'SUCCEEDED' || seen.status === 'FAILED') return [finish(state, seen, now)];
  // Attempts that ended while the job goes on (Batch retried it) are recorded first, whatever order
  // the events came in: each event lists every ended attempt, so a lost or late one is made up for.
  const retried = endedAttemptsIn(seen).slice((state.endedAttempts ?? []).length);
  const attemptEvents: JobEvent[] = retried.map((attempt, index) => ({
    type: 'JobAttemptFailed',
    data: {
      attempt: (state.endedAttempts ?? []).length + index + 1,
      startedAt: attempt.startedAt ?? null,
      stoppedAt: attempt.stoppedAt!,
      statusReason: attempt.statusReason ?? null,
      exitCode: attempt.exitCode ?? null,
    },
  }));
  const status = attemptEvents.length > 0 ? 'starting' : state.status;
  switch (seen.status) {
    case 'SUBMITTED':
    case 'PENDING':
    case 'RUNNABLE':
      return attemptEvents;
    case 'STARTING':
      return state.status === 'queued' ? [...attemptEvents, { type: 'JobStarting', data: { at: now } }] : attemptEvents;
    case 'RUNNING':
      return status === 'running' ? attemptEvents : [...attemptEvents, { type: 'JobRunning', data: { startedAt: seen.startedAt ?? now } }];
    default: {
      const unknown: never = seen.status;
      return unknown;
    }
  }
}

function finish(state: KnownJobState, seen: ObserveCompute['data'], now: string): JobEvent {
  const finishedAt = seen.stoppedAt ?? now;
  const runSeconds = seen.attempts
    ? billableSecondsOfAttempts(
        seen.attempts.map((a, index) => ({
          startedAt: a.startedAt ?? null,
          stoppedAt: a.stoppedAt ?? (index === seen.attempts!.length - 1 ? finishedAt : (a.startedAt ?? finishedAt)),
        })),
        state.job.heldSeconds,
      )
    : runSecondsFromState(state, seen, finishedAt);
  const finished = { finishedAt, runSeconds, usage: usageOf(state.job, runSeconds) };
  const exitCode = seen.exitCode ?? null;
  if (seen.status === 'SUCCEEDED') return { type: 'JobSucceeded', data: { ...finished, exitCode: exitCode ?? 0 } };
  if (state.cancelRequestedAt !== null) return { type: 'JobCancelled', data: finished };
  return {
    type: 'JobFailed',
    data: { ...finished, reason: failureReason(state, exitCode, seen.cause ?? null), exitCode, statusReason: seen.statusReason ?? null },
  };
}

/** Billed seconds when the compute side gave no attempts: what we recorded, up to the stop. */
function runSecondsFromState(state: KnownJobState, seen: ObserveCompute['data'], finishedAt: string): number {
  const startedAt = state.status === 'running' ? state.startedAt : (seen.startedAt ?? null);
  const ended = state.endedAttempts ?? [];
  if (ended.length === 0) return billableSeconds(startedAt, finishedAt, state.job.heldSeconds);
  const current: EndedAttempt[] = state.status === 'running' ? [{ startedAt: state.startedAt, stoppedAt: finishedAt }] : [];
  return billableSecondsOfAttempts([...ended, ...current], state.job.heldSeconds);
}

/** The attempts of a non-final observation that have ended (Batch lists an attempt once it stopped). */
const endedAttemptsIn = (seen: ObserveCompute['data']) => (seen.attempts ?? []).filter((a) => a.stoppedAt !== undefined);

/**
 * The public `failure_reason` of a job that failed: the service's own stop first (`JobStopRequested`),
 * then why the compute side ended it, then the job's exit code.
 */
export function failureReason(state: KnownJobState, exitCode: number | null, cause: StopCause | null): FailureReason {
  if (state.stopRequested) return state.stopRequested.reason;
  // The compute side's timeout is the backstop of the held time: the reason the hold was sized by.
  if (cause === 'timeout') return state.job.stopReason;
  if (cause === 'infrastructure') return 'infrastructure';
  // The customer's container could not start (bad image or command): theirs to fix, like an exit.
  if (cause === 'container_start') return 'non_zero_exit';
  if (exitCode !== null && exitCode !== 0) return 'non_zero_exit';
  return 'infrastructure';
}

/** The events that end a job; when one is appended the hold must be settled in the same write. */
export const finalEventOf = (events: JobEvent[]) =>
  events.find(
    (e): e is Extract<JobEvent, { type: 'JobSucceeded' | 'JobFailed' | 'JobCancelled' }> =>
      e.type === 'JobSucceeded' || e.type === 'JobFailed' || e.type === 'JobCancelled',
  );

/** A job: its own stream (`job#<job id>`). */
export const jobDecider: StreamDecider<JobState, JobCommand, JobEvent> = {
  streamId: (jobId) => `job#${jobId}`,
  initialState: initialJobState,
  decide: decideJob,
  evolve: evolveJob,
};

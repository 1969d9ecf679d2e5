import type { JobEvent, JobQueued, StopReason } from '../../events/job-events';
import type { FailureReason, Usage } from '../../events/values';
import { allocate } from '../ledger/funding';

export type JobSpec = JobQueued['data'];

/** An attempt of the job that ran and ended without ending the job (the compute side retried it). */
export interface EndedAttempt {
  startedAt: string | null;
  stoppedAt: string;
}

interface Known {
  job: JobSpec;
  batchJobId: string | null;
  cancelRequestedAt: string | null;
  /** Why the service stopped the job, once it decided to (`JobStopRequested`). */
  stopRequested?: { reason: StopReason; requestedAt: string } | null;
  /** Attempts that ended before the current one; their running time is billed with the job's. */
  endedAttempts?: EndedAttempt[];
}

export type FinalStatus = 'succeeded' | 'failed' | 'cancelled';

export type JobState =
  | { status: 'none' }
  | (Known & { status: 'queued' })
  | (Known & { status: 'starting'; startingAt: string })
  | (Known & { status: 'running'; startedAt: string })
  | (Known & {
      status: FinalStatus;
      startedAt: string | null;
      finishedAt: string;
      runSeconds: number;
      usage: Usage;
      failureReason: FailureReason | null;
      exitCode: number | null;
      statusReason: string | null;
    });

export type KnownJobState = Exclude<JobState, { status: 'none' }>;

export const initialJobState = (): JobState => ({ status: 'none' });

export const isFinal = (state: JobState): state is Extract<JobState, { status: FinalStatus }> =>
  state.status === 'succeeded' || state.status === 'failed' || state.status === 'cancelled';

/** Applies one job event. Events are facts: a late or duplicate one leaves a final job unchanged. */
export function evolveJob(state: JobState, event: JobEvent): JobState {
  if (event.type === 'JobQueued') {
    return { status: 'queued', job: event.data, batchJobId: null, cancelRequestedAt: null, endedAttempts: [] };
  }
  if (state.status === 'none' || isFinal(state)) return state;
  const known: Known = {
    job: state.job,
    batchJobId: state.batchJobId,
    cancelRequestedAt: state.cancelRequestedAt,
    stopRequested: state.stopRequested ?? null,
    endedAttempts: state.endedAttempts ?? [],
  };
  const startedAt = state.status === 'running' ? state.startedAt : (state.endedAttempts?.[0]?.startedAt ?? null);
  switch (event.type) {
    case 'BatchJobSubmitted':
      return { ...state, batchJobId: event.data.batchJobId };
    case 'JobCancelRequested':
      return { ...state, cancelRequestedAt: event.data.requestedAt };
    case 'JobStopRequested':
      return { ...state, stopRequested: event.data };
    case 'JobStarting':
      return state.status === 'queued' ? { ...known, status: 'starting', startingAt: event.data.at } : state;
    case 'JobRunning':
      return { ...known, status: 'running', startedAt: event.data.startedAt };
    case 'JobAttemptFailed': {
      // The job waits for its next attempt: it is started (so a cancel goes through the compute side) but not running.
      const { startedAt, stoppedAt } = event.data;
      return { ...known, status: 'starting', startingAt: stoppedAt, endedAttempts: [...(known.endedAttempts ?? []), { startedAt, stoppedAt }] };
    }
    case 'JobSucceeded':
    case 'JobFailed':
    case 'JobCancelled': {
      const failed = event.type === 'JobFailed' ? event.data : null;
      return {
        ...known,
        status: event.type === 'JobSucceeded' ? 'succeeded' : event.type === 'JobFailed' ? 'failed' : 'cancelled',
        startedAt,
        finishedAt: event.data.finishedAt,
        runSeconds: event.data.runSeconds,
        usage: event.data.usage,
        failureReason: failed?.reason ?? null,
        exitCode: event.type === 'JobCancelled' ? null : event.data.exitCode,
        statusReason: failed?.statusReason ?? null,
      };
    }
    default: {
      const unknown: never = event;
      return unknown;
    }
  }
}

/**
 * Billable seconds between start and stop: whole seconds, rounded up once (a started second is a
 * billed second), never below zero and never above what was held.
 */
export function billableSeconds(startedAt: string | null, stoppedAt: string, heldSeconds: number): number {
  if (startedAt === null) return 0;
  const ms = Date.parse(stoppedAt) - Date.parse(startedAt);
  return Math.min(heldSeconds, Math.max(0, Math.ceil(ms / 1000)));
}

/**
 * Billable seconds of a job that ran in several attempts: the milliseconds of every attempt summed,
 * then rounded up once, never above what was held. An attempt without a start (it never ran) counts 0.
 */
export function billableSecondsOfAttempts(attempts: EndedAttempt[], heldSeconds: number): number {
  return Math.min(heldSeconds, Math.ceil(runningMs(attempts) / 1000));
}

/** The exact running time of attempts, in milliseconds: an attempt without a start (it never ran) counts 0. */
const runningMs = (attempts: EndedAttempt[]) =>
  attempts.reduce((sum, { startedAt, stoppedAt }) => sum + (startedAt === null ? 0 : Math.max(0, Date.parse(stoppedAt) - Date.parse(startedAt))), 0);

/** Every attempt of the job so far at `now`: the ended ones, and the running one as if it stopped now. */
const attemptsSoFar = (state: KnownJobState, now: string): EndedAttempt[] => [
  ...(state.endedAttempts ?? []),
  ...(state.status === 'running' ? [{ startedAt: state.startedAt, stoppedAt: now }] : []),
];

/**
 * The job's billable seconds so far at `now` (every ended attempt plus the running one), as the
 * settlement would count them if the job stopped now: rounded up once, by `billableSecondsOfAttempts`.
 */
export function runSecondsSoFar(state: KnownJobState, now: string): number {
  return billableSecondsOfAttempts(attemptsSoFar(state, now), state.job.heldSeconds);
}

/**
 * Whether a running job has used its held time minus the grace at `now`, counting every attempt: the
 * moment it must get SIGTERM so that SIGKILL, a grace later, lands at the held time. Not rounded: the
 * stop is due when the exact running time reaches the budget, the same milliseconds `runSecondsSoFar`
 * rounds up.
 */
export function mustStop(state: KnownJobState, now: string): boolean {
  if (state.status !== 'running') return false;
  return runningMs(attemptsSoFar(state, now)) >= (state.job.heldSeconds - state.job.graceSeconds) * 1000;
}

/**
 * What `runSeconds` of this job cost and how it was paid: the trial first, up to the trial share of
 * its hold, then its credits in order at the rate fixed on the hold. The ledger's settlement of the
 * same hold calls the same `allocate`, so the two always agree.
 */
export function usageOf(job: JobSpec, runSeconds: number): Usage {
  const used = allocate(
    { trialGpuSeconds: job.trialGpuSeconds, ratePerGpuHour: job.ratePerGpuHour ?? 0, credits: job.credits ?? [] },
    Math.min(runSeconds, job.heldSeconds) * job.gpuCount,
  );
  return { gpuSeconds: used.gpuSeconds, trialGpuSeconds: used.trialGpuSeconds, cost: { amount: used.cost, currency: 'CNY' } };
}

import { STOP_REASON_PREFIX } from '../domain/job/decide';
import type { KnownJobState } from '../domain/job/job';
import type { Deps } from './deps';
import { lambda } from './lambda';
import { listActiveJobs } from './views/active-jobs';
import { logger } from './logger';

/**
 * Whether a job has used its held time minus the grace, counting every attempt: the moment it must
 * get SIGTERM so that SIGKILL, a grace later, lands at the held time.
 */
export function mustStop(state: KnownJobState, now: Date): boolean {
  if (state.status !== 'running') return false;
  const attempts = [...(state.endedAttempts ?? []), { startedAt: state.startedAt, stoppedAt: now.toISOString() }];
  // Not rounded up: the stop is due when the exact running time reaches the budget.
  const ms = attempts.reduce((sum, a) => sum + (a.startedAt ? Date.parse(a.stoppedAt) - Date.parse(a.startedAt) : 0), 0);
  return ms >= (state.job.heldSeconds - state.job.graceSeconds) * 1000;
}

/**
 * Scheduled tick: sends SIGTERM (compute `terminate`, reason `sx:<stopReason>`) to every running job
 * whose held time minus the grace is used up, counting all its attempts. The compute side's own
 * per-attempt timeout (held − grace) is the backstop that holds when this tick does not run; this tick
 * is what bounds a job Batch retried (each attempt gets a fresh timeout there). Terminating twice is
 * harmless, so a doubled tick is too. Returns the jobs it stopped.
 */
export const make = (deps: Deps) => async (): Promise<{ stopped: string[] }> => {
  const now = deps.now();
  const stopped: string[] = [];
  for (const { state } of await listActiveJobs(deps)) {
    if (state.batchJobId === null || !mustStop(state, now)) continue;
    try {
      await deps.compute.terminate(state.batchJobId, `${STOP_REASON_PREFIX}${state.job.stopReason}`);
      stopped.push(state.job.jobId);
    } catch (error) {
      logger.error('could not stop a job at its held time', { jobId: state.job.jobId, error });
    }
  }
  return { stopped };
};

export const handler = lambda(make);

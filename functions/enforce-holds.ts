import { mustStop } from '../domain/job/job';
import { STOP_REASON_PREFIX } from './compute-stop-causes';
import type { Deps } from './deps';
import { runJobCommand } from './job-commands';
import { lambda } from './lambda';
import { listActiveJobs } from './views/active-jobs';
import { logger } from './logger';

/**
 * Scheduled tick: for every running job whose held time minus the grace is used up (`mustStop`,
 * counting all its attempts), records the stop (`JobStopRequested` with the job's `stopReason`) and
 * sends SIGTERM (compute `terminate`, reason `sx:<stopReason>` for the Batch console). The compute side's own
 * per-attempt timeout (held − grace) is the backstop that holds when this tick does not run; this tick
 * is what bounds a job Batch retried (each attempt gets a fresh timeout there). Terminating twice is
 * harmless, so a doubled tick is too. Returns the jobs it stopped.
 */
export const make = (deps: Deps) => async (): Promise<{ stopped: string[] }> => {
  const now = deps.now();
  const stopped: string[] = [];
  for (const { state } of await listActiveJobs(deps)) {
    if (state.batchJobId === null || !mustStop(state, now.toISOString())) continue;
    try {
      // Recorded once (a later tick decides nothing); the terminate is repeated until the job has ended.
      await runJobCommand(deps, state.job.jobId, (at) => ({ type: 'RequestStop', data: { reason: state.job.stopReason }, metadata: { now: at } }), {
        metadata: { actor: 'enforce-holds' },
      });
      await deps.compute.terminate(state.batchJobId, `${STOP_REASON_PREFIX}${state.job.stopReason}`);
      stopped.push(state.job.jobId);
    } catch (error) {
      logger.error('could not stop a job at its held time', { jobId: state.job.jobId, error });
    }
  }
  return { stopped };
};

export const handler = lambda(make);

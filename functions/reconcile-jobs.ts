import { isFinal, type KnownJobState } from '../domain/job/job';
import { STOP_REASON_PREFIX } from './compute-stop-causes';
import { runJobCommand } from './job-commands';
import { load } from './aggregates/aggregate';
import { jobs } from './aggregates/jobs';
import { DESCRIBE_BATCH_SIZE, type DescribedJob } from './adapters/compute';
import { sweepSettings, type Deps } from './deps';
import { dispatch, stop } from './dispatch-jobs';
import { lambda } from './lambda';
import { observeComputeJob } from './observe-compute';
import { listActiveJobs, removeActiveJob, type ActiveJob } from './views/active-jobs';
import { logger } from './logger';

/** The status reason of a job we give up on: it never got capacity, or the compute side lost it. */
export const INFRASTRUCTURE_REASON = `${STOP_REASON_PREFIX}infrastructure`;
const RECONCILER = { actor: 'reconciler' };

/** What one sweep did, for its log line and the tests. */
export interface ReconcileReport {
  checked: number;
  /** Jobs whose state moved because of what `describe` said (a state-change event was lost). */
  recovered: number;
  /** Queued jobs with no compute job, submitted again (their dispatch was lost). */
  redispatched: number;
  /** Jobs failed with `infrastructure` and settled at zero (stuck waiting, or lost by the compute side). */
  failed: number;
}

/**
 * Scheduled sweep: compares every non-final job with the compute side (`describe`, 100 ids a call)
 * and records what was missed, so a lost state-change event delays a job's progress by one sweep at
 * most. A job still waiting for capacity past `runnableTimeoutSeconds`, or one the compute side has
 * lost, is stopped and fails with `infrastructure`, settled at zero. A queued job without a compute
 * job is dispatched again; a cancel whose stop was lost is sent again. Every step is idempotent, so
 * a doubled or missed tick is harmless. A failure on one job is logged and the sweep goes on.
 * The set of active jobs is a view that can lag the streams; a job it shows without a compute job
 * is read from its stream before anything is concluded about it.
 */
export const make = (deps: Deps) => async (): Promise<ReconcileReport> => {
  const settings = sweepSettings(deps);
  const report: ReconcileReport = { checked: 0, recovered: 0, redispatched: 0, failed: 0 };
  const active = await withComputeJobsOf(await listActiveJobs(deps));
  const now = deps.now().getTime();
  const ageSeconds = (iso: string) => (now - Date.parse(iso)) / 1000;

  const withCompute = active.filter(({ state }) => state.batchJobId !== null && !isFinal(state));
  for (let i = 0; i < withCompute.length; i += DESCRIBE_BATCH_SIZE) {
    const chunk = withCompute.slice(i, i + DESCRIBE_BATCH_SIZE);
    const described = new Map((await deps.compute.describe(chunk.map(({ state }) => state.batchJobId!))).map((d) => [d.batchJobId, d]));
    for (const { state } of chunk) {
      report.checked++;
      await guarded(state.job.jobId, async () => {
        const seen = described.get(state.batchJobId!);
        if (seen) return reconcileOne(state, seen);
        // Unknown to the compute side (Batch forgets nothing this young; a local stack restarted).
        if (ageSeconds(lastChange(state)) > settings.lostJobSeconds) {
          if (await giveUp(state.job.jobId)) report.failed++;
        }
      });
    }
  }

  for (const { state } of active) {
    if (isFinal(state)) {
      // An out-of-order projection write put a final job back in the set.
      await guarded(state.job.jobId, () => removeActiveJob(deps, state.job.jobId));
    } else if (state.batchJobId === null && ageSeconds(state.job.queuedAt) > settings.lostJobSeconds / 10) {
      report.checked++;
      await guarded(state.job.jobId, async () => {
        await dispatch(deps, state.job.jobId);
        report.redispatched++;
      });
    }
  }
  if (report.recovered + report.redispatched + report.failed > 0) logger.info('reconciled', { ...report });
  return report;

  async function reconcileOne(state: KnownJobState, seen: DescribedJob) {
    const after = await observeComputeJob(deps, seen.detail, RECONCILER);
    if (after && (after.status !== state.status || (after.endedAttempts?.length ?? 0) !== (state.endedAttempts?.length ?? 0))) report.recovered++;
    if (!after || isFinal(after)) return;
    const waiting = seen.status === 'SUBMITTED' || seen.status === 'PENDING' || seen.status === 'RUNNABLE';
    if (after.status === 'queued' && waiting && ageSeconds(after.job.queuedAt) > settings.runnableTimeoutSeconds) {
      await deps.compute.terminate(seen.batchJobId, INFRASTRUCTURE_REASON);
      if (await giveUp(after.job.jobId)) report.failed++;
    } else if (after.cancelRequestedAt !== null) {
      await stop(deps, after.job.jobId); // the first stop may have been lost; TerminateJob is idempotent
    }
  }

  /**
   * The view's state of a job it shows without a compute job, replaced by its stream's: the view's
   * projection may be behind (still catching up after a restart, or slow), and a job whose compute
   * job is recorded only in its stream would otherwise be neither described nor, while younger
   * than the redispatch age, dispatched: a state-change event it lost (the final one, after a
   * crash) would wait a whole period for the next sweep. Only jobs in that state are read, which
   * outside a lag are the few between `JobQueued` and `BatchJobSubmitted`.
   */
  async function withComputeJobsOf(listed: ActiveJob[]): Promise<ActiveJob[]> {
    const fresh: ActiveJob[] = [];
    for (const entry of listed) {
      if (entry.state.batchJobId !== null || isFinal(entry.state)) {
        fresh.push(entry);
        continue;
      }
      let current = entry;
      await guarded(entry.state.job.jobId, async () => {
        const { state, version } = await load(deps.store, jobs, entry.state.job.jobId);
        if (state.status !== 'none' && version > entry.version) current = { state, version };
      });
      fresh.push(current);
    }
    return fresh;
  }

  /** Fails the job with `infrastructure`, billed nothing (no attempt of it is known to have run). */
  async function giveUp(jobId: string): Promise<boolean> {
    // The service's decision, as a fact of the job; then the compute side's end of it, settled at zero.
    await runJobCommand(deps, jobId, (at) => ({ type: 'RequestStop', data: { reason: 'infrastructure' }, metadata: { now: at } }), { metadata: RECONCILER });
    const after = await observeComputeJob(
      deps,
      { jobName: jobId, jobId: '', status: 'FAILED', statusReason: INFRASTRUCTURE_REASON, attempts: [], stoppedAt: now },
      RECONCILER,
    );
    return after !== null && isFinal(after);
  }
};

/** When the job last moved, as far as its state tells. */
function lastChange(state: KnownJobState): string {
  if (state.status === 'running') return state.startedAt;
  if (state.status === 'starting') return state.startingAt;
  return state.job.queuedAt;
}

async function guarded(jobId: string, work: () => Promise<unknown>): Promise<void> {
  try {
    await work();
  } catch (error) {
    logger.error('reconcile failed for a job', { jobId, error });
  }
}

export const handler = lambda(make);

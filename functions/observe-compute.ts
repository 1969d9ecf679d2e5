import { NotFoundError } from '../domain/errors';
import type { ObservedAttempt } from '../domain/job/decide';
import type { KnownJobState } from '../domain/job/job';
import type { EventMetadata } from './adapters/event-store';
import type { ComputeJobDetail } from './adapters/compute';
import type { Deps } from './deps';
import { stopCauseOf } from './compute-stop-causes';
import { runJobCommand } from './job-commands';
import { withCommandRuns } from './command-runs';

const iso = (epochMs: number | undefined) => (epochMs === undefined ? undefined : new Date(epochMs).toISOString());

/** Our job ids: a compute job with another name is not ours (another workload in the account). */
export const isOurJobName = (name: string) => /^job_[0-9a-z]{26}$/.test(name);

/**
 * Records what the compute side says about one job (from a state-change event or a `DescribeJobs`
 * entry), its ended attempts narrowed to the command's own run where the node reported it
 * (`withCommandRuns`): the job decider turns it into lifecycle events, ignoring duplicates and late arrivals, and
 * a final state settles the hold in the same write.
 * @returns the job's state after it, or null when the job is not ours.
 */
export async function observeComputeJob(deps: Deps, reported: ComputeJobDetail, metadata: EventMetadata): Promise<KnownJobState | null> {
  if (!isOurJobName(reported.jobName)) return null;
  // A node of a multi-node job (`<parent id>#<node>`) reports under the parent's name; only the
  // parent's status is the job's (node 1 ending first must not end the job).
  if (reported.jobId.includes('#')) return null;
  // Ended attempts are billed from the command's own start and end where the node reported them.
  const detail = await withCommandRuns(deps.objects, reported);
  // Batch lists an attempt once it has stopped; the current one is described by the job's own fields.
  const attempts: ObservedAttempt[] | undefined = detail.attempts?.map((a) => ({
    startedAt: iso(a.startedAt),
    stoppedAt: iso(a.stoppedAt),
    statusReason: a.statusReason ?? null,
    exitCode: a.container?.exitCode ?? null,
  }));
  const last = detail.attempts?.at(-1);
  try {
    return await runJobCommand(
      deps,
      detail.jobName,
      (now) => ({
        type: 'ObserveCompute',
        data: {
          status: detail.status,
          batchJobId: detail.jobId,
          startedAt: iso(detail.startedAt ?? last?.startedAt),
          stoppedAt: iso(detail.stoppedAt ?? last?.stoppedAt),
          exitCode: detail.container?.exitCode ?? last?.container?.exitCode ?? null,
          statusReason: detail.statusReason ?? last?.statusReason ?? null,
          cause: stopCauseOf(detail.statusReason ?? last?.statusReason),
          ...(attempts ? { attempts } : {}),
        },
        metadata: { now },
      }),
      { metadata },
    );
  } catch (error) {
    if (error instanceof NotFoundError) return null; // a compute job named like ours, but not in our store
    throw error;
  }
}

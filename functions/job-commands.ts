import { decideJob, finalEventOf, type JobCommand } from '../domain/job/decide';
import type { KnownJobState } from '../domain/job/job';
import { settlementFor } from '../domain/job-ledger';
import { NotFoundError } from '../domain/errors';
import { fold, load } from './aggregates/aggregate';
import { jobs } from './aggregates/jobs';
import { accounts } from './aggregates/ledger';
import { loadAccount } from './views/account-snapshots';
import type { Deps } from './deps';
import { retryOnConflict } from './adapters/with-retry';
import type { AppendToStream, EventMetadata } from './adapters/event-store';

/**
 * Loads a job, runs `command` on it and appends the result; a command that ends the job settles its
 * hold in the same atomic write. Reloads and decides again on a concurrent change.
 * @param owner when given, a job of another account is reported as not found (tenant isolation).
 * @returns the job's state after the command.
 * @throws NotFoundError for an unknown job; domain errors from the decider.
 */
export async function runJobCommand(
  deps: Deps,
  jobId: string,
  makeCommand: (now: string) => JobCommand,
  options: { owner?: string; metadata?: EventMetadata } = {},
): Promise<KnownJobState> {
  return retryOnConflict(async () => {
    const job = await load(deps.store, jobs, jobId);
    if (job.state.status === 'none' || (options.owner && job.state.job.accountId !== options.owner)) {
      throw new NotFoundError(`No job ${jobId}`);
    }
    const now = deps.now().toISOString();
    const command = makeCommand(now);
    const jobEvents = decideJob(command, job.state);
    if (jobEvents.length === 0) return job.state;
    const appends: AppendToStream[] = [{ streamId: jobs.streamId(jobId), expectedVersion: job.version, events: jobEvents }];
    if (finalEventOf(jobEvents)) {
      const account = await loadAccount(deps, job.state.job.accountId);
      const accountEvents = settlementFor(jobEvents, jobId, account.state, deps.policy, now);
      appends.push({ streamId: accounts.streamId(job.state.job.accountId), expectedVersion: account.version, events: accountEvents });
    }
    await deps.store.append(appends, { at: now, metadata: options.metadata });
    return fold(jobs, job.state, jobEvents) as KnownJobState;
  });
}

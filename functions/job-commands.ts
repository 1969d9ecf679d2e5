import { finalEventOf, type JobCommand } from '../domain/job/decide';
import type { KnownJobState } from '../domain/job/job';
import { settlementFor } from '../domain/job-ledger';
import { NotFoundError } from '../domain/errors';
import { fold } from './aggregates/aggregate';
import { jobs } from './aggregates/jobs';
import { handleCommands, writeTo } from './command-handler';
import type { Deps } from './deps';
import type { EventMetadata } from './adapters/event-store';

/**
 * Runs `command` on a job through the command handler; a command that ends the job settles its hold
 * in the same atomic write (the account is loaded only then).
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
  return handleCommands(
    deps,
    async ({ now, load, loadAccount }) => {
      const job = await load(jobs, jobId);
      if (job.state.status === 'none' || (options.owner && job.state.job.accountId !== options.owner)) {
        throw new NotFoundError(`No job ${jobId}`);
      }
      const jobEvents = jobs.decide(makeCommand(now), job.state);
      const writes = [writeTo(job, jobEvents)];
      if (finalEventOf(jobEvents)) {
        const account = await loadAccount(job.state.job.accountId);
        writes.push(writeTo(account, settlementFor(jobEvents, jobId, account.state, deps.policy, now)));
      }
      return { writes, result: fold(jobs, job.state, jobEvents) as KnownJobState };
    },
    { metadata: options.metadata },
  );
}

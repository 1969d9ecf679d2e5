import { decideLedger, type ReactivateAccount, type SuspendAccount } from '../../domain/ledger/decide';
import { InvalidStateError, NotFoundError } from '../../domain/errors';
import { fold } from '../aggregates/aggregate';
import { accounts } from '../aggregates/ledger';
import { handleCommands, writeTo } from '../command-handler';
import type { Deps } from '../deps';
import { runJobCommand } from '../job-commands';
import { operatorActor } from './operators';

/**
 * Suspends or reactivates an account through the ledger decider. After a suspension, every job with
 * an open hold is cancelled with the job decider's own `RequestCancel`, exactly as its owner's cancel
 * would: a queued job ends at once and its hold is released; a started one is stopped by the compute
 * side (SIGTERM, the grace, SIGKILL) and settled when that is confirmed. The suspension is appended
 * first, so no hold can be placed after the jobs are listed; a repeated suspension (e.g. a retry after a
 * failure half-way) cancels whatever is left.
 * @throws NotFoundError for an unknown account.
 */
export async function changeSuspension(deps: Deps, accountId: string, command: Pick<SuspendAccount | ReactivateAccount, 'type' | 'data'>): Promise<void> {
  const actor = operatorActor(command.data.operator);
  const after = await handleCommands(
    deps,
    async ({ now, loadAccount }) => {
      const account = await loadAccount(accountId);
      const events = decideLedger({ ...command, metadata: { now, policy: deps.policy } } as SuspendAccount | ReactivateAccount, account.state);
      return { writes: [writeTo(account, events)], result: fold(accounts, account.state, events) };
    },
    { metadata: { actor } },
  );
  if (after.status !== 'open') throw new NotFoundError('No such account');
  if (!after.suspended) return;
  for (const jobId of Object.keys(after.holds)) {
    try {
      await runJobCommand(deps, jobId, (now) => ({ type: 'RequestCancel', data: {}, metadata: { now } }), { owner: accountId, metadata: { actor } });
    } catch (error) {
      // Ended meanwhile: its own final event settles it.
      if (!(error instanceof InvalidStateError)) throw error;
    }
  }
}

import { nextPeriod, periodOf, periodStart } from '../domain/ledger/periods';
import { load } from './aggregates/aggregate';
import { accounts, vouchers } from './aggregates/ledger';
import { handleCommands, writeTo } from './command-handler';
import { findVoucher } from './views/admin-views';
import type { Deps } from './deps';
import { lambda } from './lambda';
import { forgetMonthlyVoucher, listMonthlyVouchers } from './views/monthly-vouchers';
import { logger } from './logger';

/**
 * Grants each account's monthly vouchers for every calendar month (Asia/Shanghai) begun since their
 * last grant. The ledger names each grant by its month and refuses a month already granted, so a
 * doubled, concurrent or late run grants each month exactly once. A voucher that can grant no more
 * leaves the index. One account's failure does not stop the others; the next run retries it.
 * @returns how many credits were granted (for tests and logs).
 * @throws AggregateError naming the accounts that failed, after trying all of them.
 */
export async function grantMonthlyCredits(deps: Deps): Promise<number> {
  const entries = await listMonthlyVouchers(deps);
  const now = deps.now().toISOString();
  const failures: unknown[] = [];
  let granted = 0;
  const byAccount = new Map<string, typeof entries>();
  for (const entry of entries) byAccount.set(entry.accountId, [...(byAccount.get(entry.accountId) ?? []), entry]);
  for (const [accountId, own] of byAccount) {
    try {
      granted += await handleCommands(
        deps,
        async ({ loadAccount }) => {
          const [account, disabledVouchers] = await Promise.all([loadAccount(accountId), disabledAmong(deps, own.map((e) => e.voucherId))]);
          const events = accounts.decide({ type: 'GrantMonthlyCredits', data: { disabledVouchers }, metadata: { now, policy: deps.policy } }, account.state);
          return { writes: [writeTo(account, events)], result: events.length };
        },
        { metadata: { actor: 'scheduler' } },
      );
      // Next month's start is past the voucher's expiry: nothing more will ever be granted. (A disabled
      // voucher stays in the index: each run reads it and grants nothing.)
      for (const entry of own) {
        const next = periodStart(nextPeriod(periodOf(now)));
        if (entry.expiresAt !== null && Date.parse(next) >= Date.parse(entry.expiresAt)) await forgetMonthlyVoucher(deps, entry);
      }
    } catch (error) {
      failures.push(error);
      logger.error('monthly grant failed', { accountId, error });
    }
  }
  if (failures.length > 0) throw new AggregateError(failures, `Monthly grants failed for ${failures.length} account(s)`);
  return granted;
}

/**
 * Which of these vouchers an operator disabled, and when, read from each voucher's own stream (the
 * index names it), so a disabling is seen by the very next run.
 */
async function disabledAmong(deps: Deps, voucherIds: string[]): Promise<Record<string, string>> {
  const disabled: Record<string, string> = {};
  await Promise.all(
    voucherIds.map(async (voucherId) => {
      const item = await findVoucher(deps, voucherId);
      if (!item) return;
      const { state } = await load(deps.store, vouchers, item.codeHash);
      if (state.status === 'disabled' && state.disabled) disabled[voucherId] = state.disabled.at;
    }),
  );
  return disabled;
}

/** Scheduled (hourly in AWS): see {@link grantMonthlyCredits}. */
export const make = (deps: Deps) => async () => {
  await grantMonthlyCredits(deps);
};

export const handler = lambda(make);

import { creditsInSpendingOrder, heldCreditAmount, heldTrialGpuSeconds, isSpendable, type Credit, type OpenAccountState } from '../../domain/ledger/account';
import type { AccountBody } from '../../events/api/accounts';
import type * as z from 'zod';
import type { CreditBody } from '../../events/api/vouchers';

const cny = (amount: number) => ({ amount, currency: 'CNY' as const });

/** A credit as the API shows it. */
export function presentCredit(credit: Credit, recurrence: 'monthly' | null): z.infer<typeof CreditBody> {
  return {
    id: credit.creditId,
    object: 'credit',
    source: credit.source,
    voucher_id: credit.voucherId,
    granted: cny(credit.granted),
    remaining: cny(credit.remaining),
    held: cny(credit.held),
    used: cny(credit.charged),
    expires_at: credit.expiresAt,
    recurrence,
    period: credit.period,
    created_at: credit.grantedAt,
  };
}

/**
 * `GET /v1/account`: the trial, the credits that can still pay (spendable at `now`, or holding money
 * for a running job) in spending order, and what is held. Spent and expired credits are left out.
 */
export function presentAccount(state: OpenAccountState, now: string): Omit<AccountBody, 'storage'> {
  const credits = creditsInSpendingOrder(state).filter((c) => isSpendable(c, now) || c.held > 0);
  const recurrence = (c: Credit) => (c.voucherId === null ? null : (state.vouchers[c.voucherId]?.recurrence ?? null));
  return {
    id: state.accountId,
    object: 'account',
    email: state.email,
    created_at: state.openedAt,
    trial: {
      gpu_type: state.trial.gpuType,
      gpu_seconds_granted: state.trial.granted,
      gpu_seconds_remaining: state.trial.remaining,
      gpu_seconds_used: state.trial.charged,
    },
    credits: credits.map((c) => presentCredit(c, recurrence(c))),
    held: { gpu_seconds: heldTrialGpuSeconds(state), amount: cny(heldCreditAmount(state)) },
    available: {
      trial_gpu_seconds: state.trial.remaining,
      amount: cny(credits.filter((c) => isSpendable(c, now)).reduce((sum, c) => sum + c.remaining, 0)),
    },
  };
}

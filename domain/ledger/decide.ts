import type { AccountEvent, CreditGranted } from '../../events/account-events';
import type { GpuType } from '../../events/values';
import { AccountSuspendedError, ConflictError, InsufficientBalanceError, NotFoundError } from '../errors';
import type { Policy } from '../policy';
import {
  creditsInSpendingOrder,
  evolveAccount,
  initialAccountState,
  fundingOf,
  isSpendable,
  type AccountState,
  type Hold,
  type OpenAccountState,
} from './account';
import { allocate, gpuSecondsFor, splitOverCredits } from './funding';
import { nextPeriod, periodOf, periodStart } from './periods';
import type { StreamDecider } from '../decider';

/** Every ledger command carries its time and the service's rules (prices, trial, minimum hold). */
export type LedgerMetadata = { metadata: { now: string; policy: Policy } };

export type OpenAccount = {
  type: 'OpenAccount';
  data: { accountId: string; email: string };
} & LedgerMetadata;

export type PlaceHold = {
  type: 'PlaceHold';
  data: { jobId: string; gpuType: GpuType; gpuCount: number; maxRuntimeSeconds: number };
} & LedgerMetadata;

export type SettleHold = {
  type: 'SettleHold';
  /**
   * `runSeconds`: billable wall-clock seconds the job ran (already rounded up to whole seconds).
   * `stoppedAt`: when it stopped, for the usage line's period (default: now).
   */
  data: { jobId: string; runSeconds: number; stoppedAt?: string };
} & LedgerMetadata;

/** A voucher's terms, as the account records them when it is redeemed. */
export interface VoucherTerms {
  voucherId: string;
  amount: number;
  expiresAt: string | null;
  recurrence: 'monthly' | null;
}

/** Credits a redeemed voucher for the current month. */
export type GrantVoucherCredit = {
  type: 'GrantVoucherCredit';
  data: { voucher: VoucherTerms };
} & LedgerMetadata;

/**
 * Credits every monthly voucher for each month begun since its last grant (the scheduler's command).
 * `disabledVouchers` names the account's vouchers an operator disabled, with when: no month that
 * begins at or after that time is granted (a month granted before stays).
 */
export type GrantMonthlyCredits = {
  type: 'GrantMonthlyCredits';
  data: { disabledVouchers?: Record<string, string> };
} & LedgerMetadata;

/** Who made an operator's change and why: recorded on the event. */
export interface OperatorNote {
  operator: string;
  reason: string;
}

/** An operator's goodwill or refund credit. */
export type GrantAdjustment = {
  type: 'GrantAdjustment';
  data: OperatorNote & { creditId: string; amount: number; expiresAt: string | null };
} & LedgerMetadata;

/** An operator's suspension: no new holds from now on (the caller cancels the jobs of the open holds). */
export type SuspendAccount = { type: 'SuspendAccount'; data: OperatorNote } & LedgerMetadata;

/** An operator lifts a suspension. */
export type ReactivateAccount = { type: 'ReactivateAccount'; data: OperatorNote } & LedgerMetadata;

export type LedgerCommand =
  | OpenAccount
  | PlaceHold
  | SettleHold
  | GrantVoucherCredit
  | GrantMonthlyCredits
  | GrantAdjustment
  | SuspendAccount
  | ReactivateAccount;

/** What a hold buys: how long the job may run, why it would be stopped, and who pays. */
export interface HoldPlan {
  /** Wall-clock seconds held, grace included. */
  seconds: number;
  /** Seconds between SIGTERM and SIGKILL, inside `seconds`. */
  graceSeconds: number;
  /** Why the job is stopped at `seconds - graceSeconds`. */
  stopReason: 'insufficient_balance' | 'max_runtime_exceeded';
  trialGpuSeconds: number;
  /** Fen per GPU-hour from the price book, now fixed for this job. */
  ratePerGpuHour: number;
  credits: Array<{ creditId: string; gpuSeconds: number; amount: number }>;
}

/** Balances below this percentage of what was granted are low (API.md `balance.low`). */
export const LOW_BALANCE_PERCENT = 10;

/** At most this many months are granted in one decision (one append holds at most 100 events). */
const MAX_PERIODS_PER_GRANT = 24;

/** The id of a voucher's credit for a period: deterministic, so a grant is named the same on every retry. */
export const creditIdFor = (voucherId: string, period: string) => `cred_${voucherId.replace(/^vch_/, '')}_${period.replace('-', '')}`;

/**
 * Plans a hold: the job's runtime plus the stop grace, capped at what the account can pay: the
 * trial's GPU-seconds first (for its GPU type), then credits spendable at `now` in spending order,
 * priced at the price book's rate for the GPU type.
 * @throws InsufficientBalanceError when the account cannot pay for `policy.minimumHeldSeconds`.
 * @throws NotFoundError when the account is not open.
 * @throws AccountSuspendedError when an operator suspended it.
 */
export function planHold(state: AccountState, command: PlaceHold['data'], policy: Policy, now: string): HoldPlan {
  if (state.status !== 'open') throw new NotFoundError('No such account');
  if (state.suspended) throw new AccountSuspendedError('This account is suspended: it cannot start jobs');
  const wanted = command.maxRuntimeSeconds + policy.stopGraceSeconds;
  const rate = policy.prices[command.gpuType];
  const trialUsable = command.gpuType === state.trial.gpuType ? state.trial.remaining : 0;
  // A free GPU type would make a credit's capacity unbounded; cap it so the sums stay safe integers.
  const cap = wanted * command.gpuCount;
  const capacities = creditsInSpendingOrder(state)
    .filter((credit) => isSpendable(credit, now))
    .map((credit) => ({ creditId: credit.creditId, gpuSeconds: Math.min(cap, gpuSecondsFor(credit.remaining, rate)) }));
  const payable = Math.min(cap, trialUsable + capacities.reduce((sum, c) => sum + c.gpuSeconds, 0));
  const affordable = Math.floor(payable / command.gpuCount);
  const seconds = Math.min(wanted, affordable);
  if (seconds < policy.minimumHeldSeconds) {
    throw new InsufficientBalanceError(
      `The account can pay for ${affordable} s of a ${command.gpuCount}-GPU job; at least ${policy.minimumHeldSeconds} s are needed.`,
    );
  }
  const gpuSeconds = seconds * command.gpuCount;
  const trialGpuSeconds = Math.min(trialUsable, gpuSeconds);
  // Short holds keep at least half their time for work before SIGTERM.
  const graceSeconds = Math.min(policy.stopGraceSeconds, Math.floor(seconds / 2));
  return {
    seconds,
    graceSeconds,
    stopReason: seconds < wanted ? 'insufficient_balance' : 'max_runtime_exceeded',
    trialGpuSeconds,
    ratePerGpuHour: rate,
    credits: splitOverCredits(gpuSeconds - trialGpuSeconds, capacities, rate),
  };
}

/**
 * What settling a hold charges: the job's GPU-seconds, never more than was held, split over the
 * hold's sources by {@link allocate} (the same function the job's `usage` uses).
 */
export function settlement(hold: Hold, runSeconds: number) {
  const billedSeconds = Math.min(Math.max(0, runSeconds), hold.seconds);
  const used = allocate(fundingOf(hold), billedSeconds * hold.gpuCount);
  return {
    runSeconds: billedSeconds,
    trialGpuSecondsCharged: used.trialGpuSeconds,
    trialGpuSecondsReleased: hold.trialGpuSeconds - used.trialGpuSeconds,
    creditsCharged: used.credits,
  };
}

/**
 * The ledger decider. A command that changes nothing returns `[]` (settling a settled hold, granting
 * a month already granted); a broken rule throws a domain error.
 */
export function decideLedger(command: LedgerCommand, state: AccountState): AccountEvent[] {
  const { now, policy } = command.metadata;
  switch (command.type) {
    case 'OpenAccount': {
      if (state.status !== 'none') throw new ConflictError('Account already exists');
      return [
        {
          type: 'AccountOpened',
          data: {
            accountId: command.data.accountId,
            email: command.data.email,
            openedAt: now,
            trial: { gpuType: 'a100', gpuSeconds: policy.trialGpuSeconds },
          },
        },
      ];
    }
    case 'PlaceHold': {
      if (state.status === 'open' && state.holds[command.data.jobId]) return [];
      const plan = planHold(state, command.data, policy, now);
      return [
        {
          type: 'HoldPlaced',
          data: {
            jobId: command.data.jobId,
            gpuType: command.data.gpuType,
            gpuCount: command.data.gpuCount,
            seconds: plan.seconds,
            trialGpuSeconds: plan.trialGpuSeconds,
            ratePerGpuHour: plan.ratePerGpuHour,
            credits: plan.credits,
            placedAt: now,
          },
        },
      ];
    }
    case 'SettleHold': {
      const open = requireOpen(state);
      const hold = open.holds[command.data.jobId];
      if (!hold) return [];
      const settled = settlement(hold, command.data.runSeconds);
      const periodEnd = command.data.stoppedAt ?? now;
      const periodStart = new Date(Date.parse(periodEnd) - settled.runSeconds * 1000).toISOString();
      const event: AccountEvent = {
        type: 'HoldSettled',
        data: { jobId: hold.jobId, gpuType: hold.gpuType, gpuCount: hold.gpuCount, ...settled, periodStart, periodEnd, settledAt: now },
      };
      return [event, ...lowBalances(evolveAccount(open, event) as OpenAccountState, now)];
    }
    case 'GrantVoucherCredit': {
      const open = requireOpen(state);
      const { voucher } = command.data;
      if (open.vouchers[voucher.voucherId]) throw new ConflictError('This account has already redeemed this voucher');
      return [creditGranted(voucher, periodOf(now), now)];
    }
    case 'GrantMonthlyCredits':
      return dueMonthlyCredits(requireOpen(state), now, command.data.disabledVouchers ?? {});
    case 'GrantAdjustment': {
      const open = requireOpen(state);
      const { creditId, amount, expiresAt, operator, reason } = command.data;
      // The same credit id again is the same request again (an idempotent retry): nothing new.
      if (open.credits[creditId]) return [];
      return [{ type: 'AdjustmentGranted', data: { creditId, amount, currency: 'CNY', expiresAt, operator, reason, grantedAt: now } }];
    }
    case 'SuspendAccount': {
      const open = requireOpen(state);
      if (open.suspended) return [];
      return [{ type: 'AccountSuspended', data: { ...command.data, suspendedAt: now } }];
    }
    case 'ReactivateAccount': {
      const open = requireOpen(state);
      if (!open.suspended) return [];
      return [{ type: 'AccountReactivated', data: { ...command.data, reactivatedAt: now } }];
    }
    default: {
      const unknown: never = command;
      return unknown;
    }
  }
}

function requireOpen(state: AccountState): OpenAccountState {
  if (state.status !== 'open') throw new NotFoundError('No such account');
  return state;
}

function creditGranted(voucher: VoucherTerms, period: string, now: string): CreditGranted {
  return {
    type: 'CreditGranted',
    data: {
      creditId: creditIdFor(voucher.voucherId, period),
      source: 'voucher',
      voucherId: voucher.voucherId,
      amount: voucher.amount,
      currency: 'CNY',
      expiresAt: voucher.expiresAt,
      recurrence: voucher.recurrence,
      period,
      grantedAt: now,
    },
  };
}

/**
 * Each monthly voucher's grants for the months that have begun (in Shanghai) since its last grant and
 * began before it expires and before it was disabled. Months are named, so a second or late run finds them granted: exactly once.
 */
function dueMonthlyCredits(state: OpenAccountState, now: string, disabled: Record<string, string>): AccountEvent[] {
  const current = periodOf(now);
  const events: AccountEvent[] = [];
  for (const voucher of Object.values(state.vouchers)) {
    if (voucher.recurrence !== 'monthly' || voucher.periods.length === 0) continue;
    const disabledAt = disabled[voucher.voucherId];
    const granted = new Set(voucher.periods);
    let period = voucher.periods.reduce((a, b) => (a > b ? a : b));
    let count = 0;
    while (period < current && count < MAX_PERIODS_PER_GRANT) {
      period = nextPeriod(period);
      if (voucher.expiresAt !== null && Date.parse(periodStart(period)) >= Date.parse(voucher.expiresAt)) break;
      if (disabledAt !== undefined && Date.parse(periodStart(period)) >= Date.parse(disabledAt)) break;
      if (granted.has(period)) continue;
      events.push(creditGranted(voucher, period, now));
      count++;
    }
  }
  return events;
}

/** `BalanceLow` for the trial and each credit whose unspent part is now under 10% and was not reported. */
function lowBalances(state: OpenAccountState, now: string): AccountEvent[] {
  const isLow = (granted: number, unspent: number) => granted > 0 && unspent * 100 < granted * LOW_BALANCE_PERCENT;
  const events: AccountEvent[] = [];
  const trial = state.trial;
  if (!trial.lowNotified && isLow(trial.granted, trial.granted - trial.charged)) {
    events.push({
      type: 'BalanceLow',
      data: { source: 'trial', creditId: null, unit: 'gpu_seconds', granted: trial.granted, remaining: trial.granted - trial.charged, at: now },
    });
  }
  for (const credit of creditsInSpendingOrder(state)) {
    if (!credit.lowNotified && isLow(credit.granted, credit.granted - credit.charged)) {
      events.push({
        type: 'BalanceLow',
        data: { source: 'credit', creditId: credit.creditId, unit: 'fen', granted: credit.granted, remaining: credit.granted - credit.charged, at: now },
      });
    }
  }
  return events;
}

/** The ledger: one account's stream (`account#<account id>`). */
export const accountDecider: StreamDecider<AccountState, LedgerCommand, AccountEvent> = {
  streamId: (accountId) => `account#${accountId}`,
  initialState: initialAccountState,
  decide: decideLedger,
  evolve: evolveAccount,
};

import type { AccountEvent, CreditPortion } from '../../events/account-events';
import type { GpuType } from '../../events/values';
import type { Funding } from './funding';
import { periodOf } from './periods';

/** An open hold: funds reserved for one job until it is settled. */
export interface Hold {
  jobId: string;
  gpuType: GpuType;
  gpuCount: number;
  seconds: number;
  trialGpuSeconds: number;
  /** Fen per GPU-hour, fixed when the hold was placed. */
  ratePerGpuHour: number;
  /** Each credit's reserved share, in spending order. */
  credits: CreditPortion[];
}

/**
 * A credit (from a voucher, or an operator's adjustment): money in fen, split like the trial into
 * free, held and charged.
 */
export interface Credit {
  creditId: string;
  source: 'voucher' | 'adjustment';
  /** The voucher it came from; null for an adjustment. */
  voucherId: string | null;
  granted: number;
  /** Free to spend now: granted minus held minus charged. */
  remaining: number;
  held: number;
  charged: number;
  expiresAt: string | null;
  grantedAt: string;
  /** The calendar month (Asia/Shanghai, `YYYY-MM`) the grant is for. */
  period: string;
  /** A `BalanceLow` was emitted for it and it has not recovered since. */
  lowNotified: boolean;
}

/** A voucher this account redeemed: what recurs and which months it was granted for. */
export interface RedeemedVoucher {
  voucherId: string;
  amount: number;
  expiresAt: string | null;
  recurrence: 'monthly' | null;
  /** `YYYY-MM` periods granted, oldest first. */
  periods: string[];
}

export type AccountState =
  | { status: 'none' }
  | {
      status: 'open';
      accountId: string;
      email: string;
      openedAt: string;
      trial: {
        gpuType: GpuType;
        granted: number;
        /** Free to spend now: granted minus held minus charged. */
        remaining: number;
        charged: number;
        lowNotified: boolean;
      };
      credits: Record<string, Credit>;
      vouchers: Record<string, RedeemedVoucher>;
      holds: Record<string, Hold>;
      /** Set while an operator has the account suspended: no new holds. */
      suspended: Suspension | null;
    };

/** Who suspended the account, when and why. */
export interface Suspension {
  operator: string;
  reason: string;
  at: string;
}

export type OpenAccountState = Extract<AccountState, { status: 'open' }>;

export const initialAccountState = (): AccountState => ({ status: 'none' });

/**
 * The version of {@link evolveAccount}'s state shape and rules. Bump it whenever evolve changes: a
 * snapshot taken under another version is ignored and the account is folded from its events again.
 */
export const ACCOUNT_STATE_VERSION = 3;

/** The funding of a hold, as {@link allocate} reads it. */
export const fundingOf = (hold: Pick<Hold, 'trialGpuSeconds' | 'ratePerGpuHour' | 'credits'>): Funding => ({
  trialGpuSeconds: hold.trialGpuSeconds,
  ratePerGpuHour: hold.ratePerGpuHour,
  credits: hold.credits,
});

/** A credit as granted: all of it free, nothing held or charged yet. */
const freshCredit = ({ amount, ...rest }: Pick<Credit, 'creditId' | 'source' | 'voucherId' | 'expiresAt' | 'grantedAt' | 'period'> & { amount: number }): Credit => ({
  ...rest,
  granted: amount,
  remaining: amount,
  held: 0,
  charged: 0,
  lowNotified: false,
});

/** Applies one ledger event. Events are facts: evolve never rejects, it only folds. */
export function evolveAccount(state: AccountState, event: AccountEvent): AccountState {
  if (event.type === 'AccountOpened') {
    const { accountId, email, openedAt, trial } = event.data;
    return {
      status: 'open',
      accountId,
      email,
      openedAt,
      trial: { gpuType: trial.gpuType, granted: trial.gpuSeconds, remaining: trial.gpuSeconds, charged: 0, lowNotified: false },
      credits: {},
      vouchers: {},
      holds: {},
      suspended: null,
    };
  }
  if (state.status !== 'open') return state;
  switch (event.type) {
    case 'HoldPlaced': {
      const { jobId, gpuType, gpuCount, seconds, trialGpuSeconds } = event.data;
      const portions = event.data.credits ?? [];
      const credits = { ...state.credits };
      for (const portion of portions) {
        const credit = credits[portion.creditId];
        if (credit) credits[portion.creditId] = { ...credit, remaining: credit.remaining - portion.amount, held: credit.held + portion.amount };
      }
      const hold: Hold = { jobId, gpuType, gpuCount, seconds, trialGpuSeconds, ratePerGpuHour: event.data.ratePerGpuHour ?? 0, credits: portions };
      return {
        ...state,
        trial: { ...state.trial, remaining: state.trial.remaining - trialGpuSeconds },
        credits,
        holds: { ...state.holds, [jobId]: hold },
      };
    }
    case 'HoldSettled': {
      const { jobId, trialGpuSecondsCharged, trialGpuSecondsReleased } = event.data;
      const { [jobId]: hold, ...holds } = state.holds;
      if (!hold) return state;
      const charged = new Map((event.data.creditsCharged ?? []).map((c) => [c.creditId, c.amount]));
      const credits = { ...state.credits };
      for (const portion of hold.credits) {
        const credit = credits[portion.creditId];
        if (!credit) continue;
        const paid = charged.get(portion.creditId) ?? 0;
        credits[portion.creditId] = {
          ...credit,
          held: credit.held - portion.amount,
          charged: credit.charged + paid,
          remaining: credit.remaining + portion.amount - paid,
        };
      }
      return {
        ...state,
        trial: {
          ...state.trial,
          remaining: state.trial.remaining + trialGpuSecondsReleased,
          charged: state.trial.charged + trialGpuSecondsCharged,
        },
        credits,
        holds,
      };
    }
    case 'CreditGranted': {
      const d = event.data;
      const voucher = state.vouchers[d.voucherId] ?? {
        voucherId: d.voucherId,
        amount: d.amount,
        expiresAt: d.expiresAt,
        recurrence: d.recurrence,
        periods: [],
      };
      return {
        ...state,
        credits: {
          ...state.credits,
          [d.creditId]: freshCredit({ creditId: d.creditId, source: d.source, voucherId: d.voucherId, amount: d.amount, expiresAt: d.expiresAt, grantedAt: d.grantedAt, period: d.period }),
        },
        vouchers: { ...state.vouchers, [d.voucherId]: { ...voucher, periods: [...voucher.periods, d.period] } },
      };
    }
    case 'AdjustmentGranted': {
      const d = event.data;
      const credit = freshCredit({ creditId: d.creditId, source: 'adjustment', voucherId: null, amount: d.amount, expiresAt: d.expiresAt, grantedAt: d.grantedAt, period: periodOf(d.grantedAt) });
      return { ...state, credits: { ...state.credits, [d.creditId]: credit } };
    }
    case 'AccountSuspended': {
      const { operator, reason, suspendedAt } = event.data;
      return { ...state, suspended: { operator, reason, at: suspendedAt } };
    }
    case 'AccountReactivated':
      return { ...state, suspended: null };
    case 'BalanceLow': {
      if (event.data.source === 'trial') return { ...state, trial: { ...state.trial, lowNotified: true } };
      const credit = event.data.creditId ? state.credits[event.data.creditId] : undefined;
      return credit ? { ...state, credits: { ...state.credits, [credit.creditId]: { ...credit, lowNotified: true } } } : state;
    }
    default: {
      const unknown: never = event;
      return unknown;
    }
  }
}

/** Trial GPU-seconds currently reserved by open holds. */
export const heldTrialGpuSeconds = (state: AccountState): number =>
  state.status === 'open' ? Object.values(state.holds).reduce((sum, hold) => sum + hold.trialGpuSeconds, 0) : 0;

/** Fen currently reserved from credits by open holds. */
export const heldCreditAmount = (state: AccountState): number =>
  state.status === 'open' ? Object.values(state.credits).reduce((sum, credit) => sum + credit.held, 0) : 0;

/** A credit may pay for new holds until it expires (holds placed before are honoured regardless). */
export const isSpendable = (credit: Credit, now: string): boolean =>
  credit.remaining > 0 && (credit.expiresAt === null || Date.parse(credit.expiresAt) > Date.parse(now));

/** Credits in spending order: earliest expiry first (never-expiring last), then oldest, then by id. */
export function creditsInSpendingOrder(state: OpenAccountState): Credit[] {
  const expiry = (c: Credit) => (c.expiresAt === null ? Number.POSITIVE_INFINITY : Date.parse(c.expiresAt));
  return Object.values(state.credits).sort(
    (a, b) =>
      expiry(a) - expiry(b) ||
      Date.parse(a.grantedAt) - Date.parse(b.grantedAt) ||
      (a.creditId < b.creditId ? -1 : a.creditId > b.creditId ? 1 : 0),
  );
}

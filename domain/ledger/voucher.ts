import type { VoucherEvent } from '../../events/account-events';
import { ConflictError, NotFoundError } from '../errors';
import type { VoucherTerms } from './decide';
import type { StreamDecider } from '../decider';

/** A voucher's stream (`voucher#<code hash>`): its terms and who redeemed it. */
export type VoucherState =
  | { status: 'none' }
  | (VoucherTerms & {
      status: 'active' | 'disabled';
      maxRedemptions: number;
      createdAt: string;
      redeemedBy: Record<string, string>;
      /** Who disabled it, when and why (status `disabled`); null while active. */
      disabled: { operator: string; reason: string; at: string } | null;
    });

export const initialVoucherState = (): VoucherState => ({ status: 'none' });

export function evolveVoucher(state: VoucherState, event: VoucherEvent): VoucherState {
  switch (event.type) {
    case 'VoucherCreated': {
      const { voucherId, amount, maxRedemptions, expiresAt, recurrence, createdAt } = event.data;
      return { status: 'active', voucherId, amount, maxRedemptions, expiresAt, recurrence, createdAt, redeemedBy: {}, disabled: null };
    }
    case 'VoucherRedeemed':
      return state.status === 'none' ? state : { ...state, redeemedBy: { ...state.redeemedBy, [event.data.accountId]: event.data.creditId } };
    case 'VoucherDisabled': {
      if (state.status === 'none') return state;
      const { operator, reason, disabledAt } = event.data;
      return { ...state, status: 'disabled', disabled: { operator, reason, at: disabledAt } };
    }
    default: {
      const unknown: never = event;
      return unknown;
    }
  }
}

export type CreateVoucher = {
  type: 'CreateVoucher';
  data: { voucherId: string; amount: number; maxRedemptions: number; expiresAt: string | null; recurrence: 'monthly' | null };
  metadata: { now: string };
};

export type RedeemVoucher = {
  type: 'RedeemVoucher';
  data: { accountId: string; creditId: string };
  metadata: { now: string };
};

/** An operator's: no further redemptions, no further monthly credits. */
export type DisableVoucher = {
  type: 'DisableVoucher';
  data: { operator: string; reason: string };
  metadata: { now: string };
};

export type VoucherCommand = CreateVoucher | RedeemVoucher | DisableVoucher;

/**
 * The voucher decider. The voucher's stream is what makes "exactly one of concurrent redemptions of a
 * single-use code succeeds": each redemption appends to it conditionally.
 * @throws NotFoundError for an unknown, expired or disabled code (API.md: 404), and when disabling an unknown voucher.
 * @throws ConflictError when it is fully redeemed, or was redeemed by this account before (API.md: 409),
 *   or when creating a voucher whose code already exists.
 */
export function decideVoucher(command: VoucherCommand, state: VoucherState): VoucherEvent[] {
  const { now } = command.metadata;
  switch (command.type) {
    case 'CreateVoucher':
      if (state.status !== 'none') throw new ConflictError('A voucher with this code already exists');
      return [{ type: 'VoucherCreated', data: { ...command.data, currency: 'CNY', createdAt: now } }];
    case 'RedeemVoucher': {
      if (state.status === 'none') throw new NotFoundError('No such voucher code');
      if (state.status === 'disabled') throw new NotFoundError('This voucher code has been disabled');
      if (state.expiresAt !== null && Date.parse(state.expiresAt) <= Date.parse(now)) {
        throw new NotFoundError('This voucher code has expired');
      }
      if (state.redeemedBy[command.data.accountId]) throw new ConflictError('This account has already redeemed this voucher');
      if (Object.keys(state.redeemedBy).length >= state.maxRedemptions) throw new ConflictError('This voucher has been fully redeemed');
      return [{ type: 'VoucherRedeemed', data: { accountId: command.data.accountId, creditId: command.data.creditId, redeemedAt: now } }];
    }
    case 'DisableVoucher': {
      if (state.status === 'none') throw new NotFoundError('No such voucher');
      // Disabling twice changes nothing: the first operator and reason stand.
      if (state.status === 'disabled') return [];
      return [{ type: 'VoucherDisabled', data: { operator: command.data.operator, reason: command.data.reason, disabledAt: now } }];
    }
    default: {
      const unknown: never = command;
      return unknown;
    }
  }
}

/** What an operator sees of a voucher: `expired` once its expiry has passed (unless disabled first). */
export function voucherStatus(state: { status: 'active' | 'disabled'; expiresAt: string | null }, now: string): 'active' | 'disabled' | 'expired' {
  if (state.status === 'disabled') return 'disabled';
  return state.expiresAt !== null && Date.parse(state.expiresAt) <= Date.parse(now) ? 'expired' : 'active';
}
/** A voucher: `voucher#<sha256 of the normalised code>` (the code itself is never stored). */
export const voucherDecider: StreamDecider<VoucherState, VoucherCommand, VoucherEvent> = {
  streamId: (codeHash) => `voucher#${codeHash}`,
  initialState: initialVoucherState,
  decide: decideVoucher,
  evolve: evolveVoucher,
};

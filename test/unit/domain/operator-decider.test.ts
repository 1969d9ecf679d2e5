import { describe, expect, it } from 'vitest';
import { evolveAccount, initialAccountState, type AccountState } from '../../../domain/ledger/account';
import { creditIdFor, decideLedger, type LedgerCommand } from '../../../domain/ledger/decide';
import { decideVoucher, evolveVoucher, initialVoucherState, voucherStatus, type VoucherCommand, type VoucherState } from '../../../domain/ledger/voucher';
import { decideJob, type JobCommand } from '../../../domain/job/decide';
import { evolveJob, initialJobState, type JobState } from '../../../domain/job/job';
import { settlementFor } from '../../../domain/job-ledger';
import { AccountSuspendedError, InsufficientBalanceError, NotFoundError } from '../../../domain/errors';
import type { AccountEvent, VoucherEvent } from '../../../events/account-events';
import type { JobEvent } from '../../../events/job-events';
import { deciderSpec } from '../../support/decider-spec';
import { accountId, accountOpened, at, holdPlaced, jobId, jobQueued, meta, policy, running, starting, submitted } from './fixtures';

const ledger = deciderSpec<AccountState, AccountEvent, LedgerCommand>({
  decide: decideLedger,
  evolve: evolveAccount,
  initialState: initialAccountState,
});
const voucher = deciderSpec<VoucherState, VoucherEvent, VoucherCommand>({ decide: decideVoucher, evolve: evolveVoucher, initialState: initialVoucherState });
const job = deciderSpec<JobState, JobEvent, JobCommand>({ decide: decideJob, evolve: evolveJob, initialState: initialJobState });

const operator = { operator: 'lin', reason: 'GPU outage on 25 Nov' };
const adjustment = (amount = 5000, expiresAt: string | null = null, creditId = 'cred_adj_1'): LedgerCommand => ({
  type: 'GrantAdjustment',
  data: { ...operator, creditId, amount, expiresAt },
  ...meta(10),
});
const adjusted = (amount = 5000, expiresAt: string | null = null, creditId = 'cred_adj_1'): AccountEvent => ({
  type: 'AdjustmentGranted',
  data: { creditId, amount, currency: 'CNY', expiresAt, ...operator, grantedAt: at(10) },
});
const suspend: LedgerCommand = { type: 'SuspendAccount', data: { operator: 'lin', reason: 'card fraud' }, ...meta(20) };
const suspended: AccountEvent = { type: 'AccountSuspended', data: { operator: 'lin', reason: 'card fraud', suspendedAt: at(20) } };
const reactivate: LedgerCommand = { type: 'ReactivateAccount', data: { operator: 'wang', reason: 'cleared' }, ...meta(30) };
const reactivated: AccountEvent = { type: 'AccountReactivated', data: { operator: 'wang', reason: 'cleared', reactivatedAt: at(30) } };
const placeHold = (second = 40): LedgerCommand => ({
  type: 'PlaceHold',
  data: { jobId: 'job_01dddddddddddddddddddddddd', gpuType: 'a100', gpuCount: 1, maxRuntimeSeconds: 60 },
  ...meta(second),
});
const opened = accountOpened as Extract<AccountEvent, { type: 'AccountOpened' }>;
const trialSpent: AccountEvent = { type: 'AccountOpened', data: { ...opened.data, trial: { gpuType: 'a100', gpuSeconds: 0 } } };
const fold = (events: AccountEvent[]) => events.reduce(evolveAccount, initialAccountState());

describe('Operators: adjustments', () => {
  describe('When the account is open', () => {
    it('grants a goodwill credit naming operator and reason', () => ledger([accountOpened]).when(adjustment()).then([adjusted()]));
    it('keeps an expiry when one is given', () =>
      ledger([accountOpened]).when(adjustment(100, '2027-01-01T00:00:00.000Z')).then([adjusted(100, '2027-01-01T00:00:00.000Z')]));
    it('changes nothing when the same credit id is granted again', () => ledger([accountOpened, adjusted()]).when(adjustment()).thenNothing());
    it('is a credit like any other: spendable, with source adjustment and no voucher', () => {
      const state = fold([accountOpened, adjusted()]);
      if (state.status !== 'open') throw new Error('not open');
      expect(state.credits.cred_adj_1).toMatchObject({ source: 'adjustment', voucherId: null, granted: 5000, remaining: 5000, held: 0, charged: 0, period: '2026-11' });
    });
    it('pays for a job once the trial is spent', () => {
      const spent = trialSpent;
      const [hold] = decideLedger(placeHold(), fold([spent, adjusted()]));
      expect(hold).toMatchObject({ type: 'HoldPlaced', data: { trialGpuSeconds: 0, credits: [expect.objectContaining({ creditId: 'cred_adj_1' })] } });
    });
  });
  describe('When there is no account', () => {
    it('refuses', () => ledger([]).when(adjustment()).thenThrows(NotFoundError));
  });
});

describe('Operators: suspension', () => {
  describe('When open', () => {
    it('suspends, naming operator and reason', () => ledger([accountOpened]).when(suspend).then([suspended]));
    it('reactivating an open account changes nothing', () => ledger([accountOpened]).when(reactivate).thenNothing());
  });
  describe('When suspended with a running job', () => {
    const history = [accountOpened, holdPlaced(), suspended];
    it('places no new hold', () => ledger(history).when(placeHold()).thenThrows(AccountSuspendedError));
    it('suspending again changes nothing', () => ledger(history).when(suspend).thenNothing());
    it('keeps the open hold, so the running job is settled when it stops', () => {
      const state = fold(history);
      expect(state.status === 'open' && Object.keys(state.holds)).toEqual([jobId]);
    });
    it('settles the stopped job exactly as a cancel', () => {
      // The job side: a cancel of a running job goes through the compute side (SIGTERM, grace)...
      job([jobQueued, submitted, starting, running]).when({ type: 'RequestCancel', data: {}, ...meta(20) }).then([
        { type: 'JobCancelRequested', data: { requestedAt: at(20) } },
      ]);
      // ...and when it stops it is cancelled and billed for what it ran, with the hold settled in the same write.
      const cancelRequested: JobEvent = { type: 'JobCancelRequested', data: { requestedAt: at(20) } };
      const jobEvents = decideJob(
        { type: 'ObserveCompute', data: { status: 'FAILED', stoppedAt: at(40), exitCode: 143, statusReason: 'sx:cancelled' }, ...meta(40) },
        [jobQueued, submitted, starting, running, cancelRequested].reduce(evolveJob, initialJobState()),
      );
      expect(jobEvents).toEqual([expect.objectContaining({ type: 'JobCancelled', data: expect.objectContaining({ runSeconds: 36 }) })]);
      const heldLikeTheJob = holdPlaced({ gpuCount: 2, seconds: 100, trialGpuSeconds: 200 });
      const settlement = settlementFor(jobEvents, jobId, fold([accountOpened, heldLikeTheJob, suspended]), policy, at(40));
      expect(settlement[0]).toMatchObject({ type: 'HoldSettled', data: { runSeconds: 36, trialGpuSecondsCharged: 72, trialGpuSecondsReleased: 128 } });
    });
    it('cancels a queued job at once', () =>
      job([jobQueued]).when({ type: 'RequestCancel', data: {}, ...meta(20) }).then([
        { type: 'JobCancelled', data: { finishedAt: at(20), runSeconds: 0, usage: { gpuSeconds: 0, trialGpuSeconds: 0, cost: { amount: 0, currency: 'CNY' } } } },
      ]));
  });
  describe('When reactivated', () => {
    const history = [accountOpened, suspended, reactivated];
    it('places holds again', () => expect(decideLedger(placeHold(), fold(history))).toHaveLength(1));
    it('suspends again', () => ledger(history).when(suspend).then([suspended]));
    it('reactivating twice changes nothing', () => ledger(history).when(reactivate).thenNothing());
  });
  describe('When suspended and the balance is gone', () => {
    it('says suspended before anything about money', () => {
      const spent = trialSpent;
      expect(() => decideLedger(placeHold(), fold([spent, suspended]))).toThrow(AccountSuspendedError);
      expect(() => decideLedger(placeHold(), fold([spent]))).toThrow(InsufficientBalanceError);
    });
  });
});

describe('Operators: disabling a voucher', () => {
  const voucherId = 'vch_01eeeeeeeeeeeeeeeeeeeeeeee';
  const created: VoucherEvent = {
    type: 'VoucherCreated',
    data: { voucherId, amount: 1000, currency: 'CNY', maxRedemptions: 5, expiresAt: null, recurrence: 'monthly', createdAt: at(0) },
  };
  const disable: VoucherCommand = { type: 'DisableVoucher', data: { operator: 'lin', reason: 'code leaked' }, ...meta(5) };
  const disabled: VoucherEvent = { type: 'VoucherDisabled', data: { operator: 'lin', reason: 'code leaked', disabledAt: at(5) } };
  const redeem: VoucherCommand = { type: 'RedeemVoucher', data: { accountId, creditId: 'cred_x' }, ...meta(6) };

  describe('When active', () => {
    it('disables, naming operator and reason', () => voucher([created]).when(disable).then([disabled]));
  });
  describe('When disabled', () => {
    it('refuses redemptions as an unknown code is refused (404)', () => voucher([created, disabled]).when(redeem).thenThrows(NotFoundError));
    it('disabling again changes nothing', () => voucher([created, disabled]).when(disable).thenNothing());
    it('reads as disabled, even past its expiry', () => {
      const state = [created, disabled].reduce(evolveVoucher, initialVoucherState());
      expect(state.status !== 'none' && voucherStatus(state, '2099-01-01T00:00:00.000Z')).toBe('disabled');
    });
  });
  describe('When unknown', () => {
    it('refuses', () => voucher([]).when(disable).thenThrows(NotFoundError));
  });

  describe('and its monthly credits, across a month boundary (Asia/Shanghai)', () => {
    // November's credit was granted at redemption; December begins at 2026-11-30T16:00Z.
    const granted: AccountEvent = {
      type: 'CreditGranted',
      data: {
        creditId: creditIdFor(voucherId, '2026-11'),
        source: 'voucher',
        voucherId,
        amount: 1000,
        currency: 'CNY',
        expiresAt: null,
        recurrence: 'monthly',
        period: '2026-11',
        grantedAt: at(0),
      },
    };
    const grantAt = (now: string, disabledAt?: string): LedgerCommand => ({
      type: 'GrantMonthlyCredits',
      data: disabledAt ? { disabledVouchers: { [voucherId]: disabledAt } } : {},
      metadata: { now, policy },
    });
    const december = (grantedAt: string): AccountEvent => ({
      type: 'CreditGranted',
      data: { ...(granted.data as Extract<AccountEvent, { type: 'CreditGranted' }>['data']), creditId: creditIdFor(voucherId, '2026-12'), period: '2026-12', grantedAt },
    });

    it('grants December when not disabled', () =>
      ledger([accountOpened, granted]).when(grantAt('2026-11-30T16:05:00.000Z')).then([december('2026-11-30T16:05:00.000Z')]));
    it('grants nothing for December when disabled in November', () =>
      ledger([accountOpened, granted]).when(grantAt('2026-11-30T16:05:00.000Z', '2026-11-30T15:59:59.000Z')).thenNothing());
    it('grants nothing for January either, however late the run', () =>
      ledger([accountOpened, granted]).when(grantAt('2027-01-02T00:00:00.000Z', '2026-11-30T15:59:59.000Z')).thenNothing());
    it('still grants December when disabled after December began (a late run decides what was due)', () =>
      ledger([accountOpened, granted]).when(grantAt('2026-12-02T00:00:00.000Z', '2026-12-01T00:00:00.000Z')).then([december('2026-12-02T00:00:00.000Z')]));
    it('keeps December when disabled after it was granted, and grants no later month', () =>
      ledger([accountOpened, granted, december('2026-11-30T16:05:00.000Z')])
        .when(grantAt('2027-02-01T00:00:00.000Z', '2026-12-15T00:00:00.000Z'))
        .thenNothing());
    it('leaves what was granted on the account', () => {
      const state = fold([accountOpened, granted, december('2026-11-30T16:05:00.000Z')]);
      expect(state.status === 'open' && Object.keys(state.credits).length).toBe(2);
    });
  });
});

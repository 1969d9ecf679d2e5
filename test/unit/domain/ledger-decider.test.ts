import { describe, expect, it } from 'vitest';
import { evolveAccount, heldTrialGpuSeconds, initialAccountState, type AccountState } from '../../../domain/ledger/account';
import { accountDecider, decideLedger, planHold, type LedgerCommand } from '../../../domain/ledger/decide';
import type { Policy } from '../../../domain/policy';
import { ConflictError, InsufficientBalanceError, NotFoundError } from '../../../domain/errors';
import type { AccountEvent } from '../../../events/account-events';
import { deciderSpec } from '../../support/decider-spec';
import { accountId, accountOpened, at, holdPlaced, jobId, otherJobId, policy } from './fixtures';

/** 3600 fen per GPU-hour: one fen per GPU-second, so the credit figures read plainly. */
const fenPerSecond = { ...policy, prices: { a100: 3600 } };
/** Ledger commands carry their time and the rules they are decided under. */
const meta = (second: number, rules: Policy = fenPerSecond) => ({ metadata: { now: at(second), policy: rules } });
const withPolicy = (command: LedgerCommand, rules: Policy): LedgerCommand => ({ ...command, metadata: { ...command.metadata, policy: rules } });
const given = deciderSpec(accountDecider);
const placeHold = (gpuCount: number, maxRuntimeSeconds: number, id = jobId, second = 1): LedgerCommand => ({
  type: 'PlaceHold',
  data: { jobId: id, gpuType: 'a100', gpuCount, maxRuntimeSeconds },
  ...meta(second),
});
const settle = (runSeconds: number, id = jobId): LedgerCommand => ({ type: 'SettleHold', data: { jobId: id, runSeconds }, ...meta(50) });
const fold = (events: AccountEvent[]) => events.reduce(evolveAccount, initialAccountState());
const settled = (data: Partial<Extract<AccountEvent, { type: 'HoldSettled' }>['data']> & { runSeconds: number }): AccountEvent => ({
  type: 'HoldSettled',
  data: {
    jobId,
    gpuType: 'a100',
    gpuCount: 1,
    trialGpuSecondsCharged: 0,
    trialGpuSecondsReleased: 0,
    creditsCharged: [],
    periodStart: new Date(Date.parse(at(50)) - data.runSeconds * 1000).toISOString(),
    periodEnd: at(50),
    settledAt: at(50),
    ...data,
  },
});
const credit = (creditId: string, amount: number, expiresAt: string | null, grantedSecond = 0, voucherId = `vch_${creditId}`): AccountEvent => ({
  type: 'CreditGranted',
  data: { creditId, source: 'voucher', voucherId, amount, currency: 'CNY', expiresAt, recurrence: null, period: '2026-11', grantedAt: at(grantedSecond) },
});
const trialSpent: AccountEvent[] = [
  { type: 'AccountOpened', data: { accountId, email: 'ada@example.com', openedAt: at(0), trial: { gpuType: 'a100', gpuSeconds: 0 } } },
];

describe('Ledger: the trial', () => {
  describe('When new', () => {
    it('opens with 300 A100 GPU-seconds', () =>
      given([]).when({ type: 'OpenAccount', data: { accountId, email: 'ada@example.com' }, ...meta(0) }).then([accountOpened]));
  });

  describe('When open with the whole trial', () => {
    const trialHold = (o: Parameters<typeof holdPlaced>[0]) => holdPlaced({ ratePerGpuHour: 3600, credits: [], ...o });
    it('holds runtime plus grace when the trial covers it', () =>
      given([accountOpened]).when(placeHold(1, 90)).then([trialHold({ seconds: 120, trialGpuSeconds: 120 })]));
    it('caps the hold at what the trial can pay', () =>
      given([accountOpened]).when(placeHold(2, 3600)).then([trialHold({ gpuCount: 2, seconds: 150, trialGpuSeconds: 300 })]));
    it('pays for 60 s of a 5-GPU job, the trial exactly', () =>
      given([accountOpened]).when(placeHold(5, 3600)).then([trialHold({ gpuCount: 5, seconds: 60, trialGpuSeconds: 300 })]));
    it('refuses a job it cannot pay 60 s of (8 GPUs: 37 s)', () =>
      given([accountOpened]).when(placeHold(8, 3600)).thenThrows(InsufficientBalanceError));
    it('cannot be opened twice', () =>
      given([accountOpened]).when({ type: 'OpenAccount', data: { accountId, email: 'x@y.z' }, ...meta(0) }).thenThrows(ConflictError));
    it('places a hold once per job', () => given([accountOpened, holdPlaced()]).when(placeHold(1, 90)).thenNothing());
  });

  describe('When part of the trial is held', () => {
    const held = [accountOpened, holdPlaced({ seconds: 200, trialGpuSeconds: 200 })];
    it('holds only what is left', () =>
      given(held).when(placeHold(1, 3600, otherJobId)).then([
        holdPlaced({ jobId: otherJobId, seconds: 100, trialGpuSeconds: 100, ratePerGpuHour: 3600, credits: [] }),
      ]));
    it('refuses when what is left is under 60 s', () =>
      given([accountOpened, holdPlaced({ seconds: 250, trialGpuSeconds: 250 })]).when(placeHold(1, 3600, otherJobId)).thenThrows(InsufficientBalanceError));
    it('settles the seconds run and releases the rest', () =>
      given(held).when(settle(42)).then([settled({ runSeconds: 42, trialGpuSecondsCharged: 42, trialGpuSecondsReleased: 158 })]));
    it('never charges more than was held', () =>
      given(held).when(settle(10_000)).then([settled({ runSeconds: 200, trialGpuSecondsCharged: 200, trialGpuSecondsReleased: 0 })]));
    it('settles a hold once', () =>
      given([...held, settled({ runSeconds: 42, trialGpuSecondsCharged: 42, trialGpuSecondsReleased: 158 })]).when(settle(42)).thenNothing());
    it('reports the trial low once it is 90% spent, once', () => {
      const nearlyAll = [accountOpened, holdPlaced({ seconds: 300, trialGpuSeconds: 300 })];
      const events = decideLedger(settle(271), fold(nearlyAll));
      expect(events.map((e) => e.type)).toEqual(['HoldSettled', 'BalanceLow']);
      expect(events[1]!.data).toEqual({ source: 'trial', creditId: null, unit: 'gpu_seconds', granted: 300, remaining: 29, at: at(50) });
      const after = fold([...nearlyAll, ...events, holdPlaced({ jobId: otherJobId, seconds: 29, trialGpuSeconds: 29 })]);
      expect(decideLedger(settle(29, otherJobId), after).map((e) => e.type)).toEqual(['HoldSettled']);
    });
    it('does not report 10% exactly', () =>
      expect(decideLedger(settle(270), fold([accountOpened, holdPlaced({ seconds: 300, trialGpuSeconds: 300 })])).map((e) => e.type)).toEqual(['HoldSettled']));
  });

  describe('Balances', () => {
    it('granted = remaining + held + charged at every step', () => {
      const events: AccountEvent[] = [
        accountOpened,
        holdPlaced({ seconds: 200, trialGpuSeconds: 200 }),
        holdPlaced({ jobId: otherJobId, seconds: 100, trialGpuSeconds: 100 }),
        settled({ runSeconds: 42, trialGpuSecondsCharged: 42, trialGpuSecondsReleased: 158 }),
        settled({ jobId: otherJobId, runSeconds: 100, trialGpuSecondsCharged: 100, trialGpuSecondsReleased: 0 }),
      ];
      for (let n = 1; n <= events.length; n++) {
        const state = fold(events.slice(0, n));
        if (state.status !== 'open') throw new Error('not open');
        expect(state.trial.remaining + heldTrialGpuSeconds(state) + state.trial.charged).toBe(300);
        expect(state.trial.remaining).toBeGreaterThanOrEqual(0);
      }
      const end = fold(events);
      expect(end.status === 'open' && end.trial).toMatchObject({ remaining: 158, charged: 142 });
    });
    it('keeps at least half a short hold for work before SIGTERM', () =>
      expect(planHold(fold([accountOpened]), { jobId, gpuType: 'a100', gpuCount: 5, maxRuntimeSeconds: 3600 }, { ...policy, stopGraceSeconds: 45 }, at(1))).toMatchObject({
        seconds: 60,
        graceSeconds: 30,
        stopReason: 'insufficient_balance',
      }));
  });
});

describe('Ledger: credits', () => {
  const expiresSoon = '2026-12-01T00:00:00.000Z';
  const expiresLater = '2027-01-01T00:00:00.000Z';

  describe('When the trial is spent and there are credits', () => {
    const credits = [...trialSpent, credit('cred_never', 1000, null, 0), credit('cred_later', 100, expiresLater, 2), credit('cred_soon', 100, expiresSoon, 3)];
    it('holds from credits by earliest expiry, never-expiring last, at the price book rate', () =>
      given(credits).when(placeHold(2, 200, jobId, 10)).then([
        holdPlaced({
          gpuCount: 2,
          seconds: 230,
          trialGpuSeconds: 0,
          ratePerGpuHour: 3600,
          credits: [
            { creditId: 'cred_soon', gpuSeconds: 100, amount: 100 },
            { creditId: 'cred_later', gpuSeconds: 100, amount: 100 },
            { creditId: 'cred_never', gpuSeconds: 260, amount: 260 },
          ],
          placedAt: at(10),
        }),
      ]));
    it('uses the trial first, then credits', () =>
      given([accountOpened, credit('cred_a', 1000, null)]).when(placeHold(1, 300)).then([
        holdPlaced({ seconds: 330, trialGpuSeconds: 300, ratePerGpuHour: 3600, credits: [{ creditId: 'cred_a', gpuSeconds: 30, amount: 30 }] }),
      ]));
    it('does not spend an expired credit on a new job', () =>
      given([...trialSpent, credit('cred_old', 1000, at(5))]).when(placeHold(1, 60, jobId, 5)).thenThrows(InsufficientBalanceError));
    it('settles per credit, in order, and releases the rest', () => {
      const held = [...credits, ...decideLedger(placeHold(2, 200, jobId, 10), fold(credits))];
      given(held).when(settle(120)).then([
        settled({
          gpuCount: 2,
          runSeconds: 120,
          creditsCharged: [
            { creditId: 'cred_soon', gpuSeconds: 100, amount: 100 },
            { creditId: 'cred_later', gpuSeconds: 100, amount: 100 },
            { creditId: 'cred_never', gpuSeconds: 40, amount: 40 },
          ],
        }),
        { type: 'BalanceLow', data: { source: 'credit', creditId: 'cred_soon', unit: 'fen', granted: 100, remaining: 0, at: at(50) } },
        { type: 'BalanceLow', data: { source: 'credit', creditId: 'cred_later', unit: 'fen', granted: 100, remaining: 0, at: at(50) } },
      ]);
    });
    it('honours a credit that expired while held', () => {
      const held = [...trialSpent, credit('cred_soon', 1000, at(30)), ...decideLedger(placeHold(1, 100, jobId, 10), fold([...trialSpent, credit('cred_soon', 1000, at(30))]))];
      const events = decideLedger(settle(100), fold(held));
      expect(events[0]!.data).toMatchObject({ creditsCharged: [{ creditId: 'cred_soon', gpuSeconds: 100, amount: 100 }] });
    });
  });

  describe('Rounding', () => {
    it('rounds a job up to a whole fen once, on its total, and never charges more than it held', () => {
      // 1163 fen per GPU-hour: 7 s cost 2.26 fen, charged 3; held 130 s = 41.99 → 42 fen
      const odd = { ...policy, prices: { a100: 1163 } };
      const start = [...trialSpent, credit('cred_a', 10, null, 0), credit('cred_b', 1000, null, 1)];
      const placed = decideLedger(withPolicy(placeHold(1, 100, jobId, 10), odd), fold(start));
      expect(placed[0]!.data).toMatchObject({
        seconds: 130,
        credits: [
          { creditId: 'cred_a', gpuSeconds: 30, amount: 10 },
          { creditId: 'cred_b', gpuSeconds: 100, amount: 32 },
        ],
      });
      const charged = decideLedger(withPolicy(settle(37), odd), fold([...start, ...placed]))[0]!.data as { creditsCharged: Array<{ amount: number }> };
      // 37 s × 1163 / 3600 = 11.95 → 12 fen in all: 10 (cred_a's 30 s) + 2
      expect(charged.creditsCharged).toEqual([
        { creditId: 'cred_a', gpuSeconds: 30, amount: 10 },
        { creditId: 'cred_b', gpuSeconds: 7, amount: 2 },
      ]);
    });
    it('holds a new price only for new jobs: the rate is on the hold', () => {
      const start = [...trialSpent, credit('cred_a', 1000, null)];
      const placed = decideLedger(placeHold(1, 100), fold(start));
      const repriced = { ...fenPerSecond, prices: { a100: 7200 } };
      expect(decideLedger(withPolicy(settle(100), repriced), fold([...start, ...placed]))[0]!.data).toMatchObject({
        creditsCharged: [{ creditId: 'cred_a', gpuSeconds: 100, amount: 100 }],
      });
    });
  });
});

describe('Ledger: voucher credits', () => {
  const voucher = { voucherId: 'vch_m', amount: 5000, expiresAt: '2027-02-15T00:00:00.000Z', recurrence: 'monthly' as const };
  const grant = (now: string): LedgerCommand => ({ type: 'GrantVoucherCredit', data: { voucher }, metadata: { now, policy } });
  const monthly = (now: string): LedgerCommand => ({ type: 'GrantMonthlyCredits', data: {}, metadata: { now, policy } });
  const granted = (period: string, grantedAt: string): AccountEvent => ({
    type: 'CreditGranted',
    data: { creditId: `cred_m_${period.replace('-', '')}`, source: 'voucher', voucherId: 'vch_m', amount: 5000, currency: 'CNY', expiresAt: voucher.expiresAt, recurrence: 'monthly', period, grantedAt },
  });
  const redeemed = [accountOpened, granted('2026-11', at(0))];

  it('grants a redeemed voucher for the current Shanghai month', () =>
    given([accountOpened]).when(grant('2026-11-30T16:30:00.000Z')).then([granted('2026-12', '2026-11-30T16:30:00.000Z')]));
  it('refuses a voucher the account redeemed before', () => given(redeemed).when(grant(at(5))).thenThrows(ConflictError));
  it('refuses an account that does not exist', () => given([]).when(grant(at(5))).thenThrows(NotFoundError));
  it('grants nothing within the same month', () => given(redeemed).when(monthly('2026-11-30T15:59:59.000Z')).thenNothing());
  it('grants the next month when it begins in Shanghai', () =>
    given(redeemed).when(monthly('2026-11-30T16:00:00.000Z')).then([granted('2026-12', '2026-11-30T16:00:00.000Z')]));
  it('grants a month once however often the scheduler runs', () =>
    given([...redeemed, granted('2026-12', '2026-11-30T16:00:00.000Z')]).when(monthly('2026-12-20T00:00:00.000Z')).thenNothing());
  it('catches up on months a late scheduler missed, and stops at the expiry', () =>
    given(redeemed).when(monthly('2027-06-01T00:00:00.000Z')).then([
      granted('2026-12', '2027-06-01T00:00:00.000Z'),
      granted('2027-01', '2027-06-01T00:00:00.000Z'),
      granted('2027-02', '2027-06-01T00:00:00.000Z'),
    ]));
});

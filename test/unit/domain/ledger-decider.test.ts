import { describe, expect, it } from 'vitest';
import { evolveAccount, heldTrialGpuSeconds, initialAccountState, type AccountState } from '../../../domain/ledger/account';
import { decideLedger, planHold, type LedgerCommand } from '../../../domain/ledger/decide';
import { ConflictError, InsufficientBalanceError } from '../../../domain/errors';
import type { AccountEvent } from '../../../events/account-events';
import { deciderSpec } from '../../support/decider-spec';
import { accountId, accountOpened, at, holdPlaced, jobId, meta, otherJobId, policy } from './fixtures';

const given = deciderSpec<AccountState, AccountEvent, LedgerCommand>({
  decide: (command, state) => decideLedger(command, state, policy),
  evolve: evolveAccount,
  initialState: initialAccountState,
});
const placeHold = (gpuCount: number, maxRuntimeSeconds: number, id = jobId): LedgerCommand => ({
  type: 'PlaceHold',
  data: { jobId: id, gpuType: 'a100', gpuCount, maxRuntimeSeconds },
  ...meta(1),
});
const settle = (runSeconds: number, id = jobId): LedgerCommand => ({ type: 'SettleHold', data: { jobId: id, runSeconds }, ...meta(50) });
const fold = (events: AccountEvent[]) => events.reduce(evolveAccount, initialAccountState());

describe('Trial ledger', () => {
  describe('When new', () => {
    it('opens with 300 A100 GPU-seconds', () =>
      given([]).when({ type: 'OpenAccount', data: { accountId, email: 'ada@example.com' }, ...meta(0) }).then([accountOpened]));
  });

  describe('When open with the whole trial', () => {
    it('holds runtime plus grace when the trial covers it', () =>
      given([accountOpened]).when(placeHold(1, 90)).then([holdPlaced({ seconds: 120, trialGpuSeconds: 120 })]));
    it('caps the hold at what the trial can pay', () =>
      given([accountOpened]).when(placeHold(2, 3600)).then([holdPlaced({ gpuCount: 2, seconds: 150, trialGpuSeconds: 300 })]));
    it('pays for 60 s of a 5-GPU job, the trial exactly', () =>
      given([accountOpened]).when(placeHold(5, 3600)).then([holdPlaced({ gpuCount: 5, seconds: 60, trialGpuSeconds: 300 })]));
    it('refuses a job it cannot pay 60 s of (8 GPUs: 37 s)', () =>
      given([accountOpened]).when(placeHold(8, 3600)).thenThrows(InsufficientBalanceError));
    it('cannot be opened twice', () =>
      given([accountOpened]).when({ type: 'OpenAccount', data: { accountId, email: 'x@y.z' }, ...meta(0) }).thenThrows(ConflictError));
    it('places a hold once per job', () =>
      given([accountOpened, holdPlaced()]).when(placeHold(1, 90)).thenNothing());
  });

  describe('When part of the trial is held', () => {
    const held = [accountOpened, holdPlaced({ seconds: 200, trialGpuSeconds: 200 })];
    it('holds only what is left', () =>
      given(held).when(placeHold(1, 3600, otherJobId)).then([holdPlaced({ jobId: otherJobId, seconds: 100, trialGpuSeconds: 100 })]));
    it('refuses when what is left is under 60 s', () =>
      given([accountOpened, holdPlaced({ seconds: 250, trialGpuSeconds: 250 })]).when(placeHold(1, 3600, otherJobId)).thenThrows(InsufficientBalanceError));
    it('settles the seconds run and releases the rest', () =>
      given(held).when(settle(42)).then([
        { type: 'HoldSettled', data: { jobId, runSeconds: 42, trialGpuSecondsCharged: 42, trialGpuSecondsReleased: 158, settledAt: at(50) } },
      ]));
    it('never charges more than was held', () =>
      given(held).when(settle(10_000)).then([
        { type: 'HoldSettled', data: { jobId, runSeconds: 200, trialGpuSecondsCharged: 200, trialGpuSecondsReleased: 0, settledAt: at(50) } },
      ]));
    it('settles a hold once', () =>
      given([...held, { type: 'HoldSettled', data: { jobId, runSeconds: 42, trialGpuSecondsCharged: 42, trialGpuSecondsReleased: 158, settledAt: at(50) } }])
        .when(settle(42))
        .thenNothing());
  });

  describe('Balances', () => {
    it('granted = remaining + held + charged at every step', () => {
      const events: AccountEvent[] = [
        accountOpened,
        holdPlaced({ seconds: 200, trialGpuSeconds: 200 }),
        holdPlaced({ jobId: otherJobId, seconds: 100, trialGpuSeconds: 100 }),
        { type: 'HoldSettled', data: { jobId, runSeconds: 42, trialGpuSecondsCharged: 42, trialGpuSecondsReleased: 158, settledAt: at(50) } },
        { type: 'HoldSettled', data: { jobId: otherJobId, runSeconds: 100, trialGpuSecondsCharged: 100, trialGpuSecondsReleased: 0, settledAt: at(60) } },
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
      expect(planHold(fold([accountOpened]), { jobId, gpuType: 'a100', gpuCount: 5, maxRuntimeSeconds: 3600 }, { ...policy, stopGraceSeconds: 45 })).toMatchObject({
        seconds: 60,
        graceSeconds: 30,
        stopReason: 'insufficient_balance',
      }));
  });
});

import { describe, expect, it } from 'vitest';
import { QuotaExceededError, RateLimitedError } from '../../../domain/errors';
import { decideSubmission, type SubmitJobCommand } from '../../../domain/job-ledger';
import { evolveAccount, initialAccountState, type AccountState } from '../../../domain/ledger/account';
import { defaultPolicy, type Policy } from '../../../domain/policy';
import { evolveQuota, initialQuotaState, MAX_REMEMBERED, quotaStateOf, type QuotaState } from '../../../domain/quotas';
import type { AccountEvent } from '../../../events/account-events';
import { deciderSpec } from '../../support/decider-spec';
import { accountId, accountOpened, holdPlaced, jobId } from './fixtures';

/** A trial big enough that only the quotas can refuse. */
const policy: Policy = { ...defaultPolicy, trialGpuSeconds: 10_000_000, maxConcurrentGpus: 16, maxJobsPerHour: 3 };
const opened: AccountEvent = { ...accountOpened, data: { ...accountOpened.data, trial: { gpuType: 'a100', gpuSeconds: policy.trialGpuSeconds } } } as AccountEvent;

type State = { account: AccountState; quotas: QuotaState };
type Command = SubmitJobCommand;
const given = deciderSpec<State, AccountEvent, Command>({
  decide: (command, state) => decideSubmission(command, state).account,
  evolve: (state, event) => ({ account: evolveAccount(state.account, event), quotas: evolveQuota(state.quotas, event) }),
  initialState: () => ({ account: initialAccountState(), quotas: initialQuotaState() }),
});

const minute = (m: number) => new Date(Date.UTC(2026, 10, 25, 12, m, 0)).toISOString();
const job = (n: number) => `job_01${String(n).padStart(24, '0')}`;
const submit = (gpuCount: number, now: string, id = jobId): Command => ({
  type: 'SubmitJob',
  data: { jobId: id, accountId, name: null, image: 'a/b:1', command: ['true'], env: {}, gpuType: 'a100', gpuCount, maxRuntimeSeconds: 600 },
  metadata: { now, policy },
});
const placed = (n: number, gpuCount: number, placedAt: string): AccountEvent =>
  holdPlaced({ jobId: job(n), gpuCount, seconds: 630, trialGpuSeconds: 630 * gpuCount, placedAt });
/** A hold as the ledger decides it: at the price book's rate, paid by the trial (no credits). */
const decidedHold = (o: Parameters<typeof holdPlaced>[0]) => holdPlaced({ ratePerGpuHour: policy.prices.a100, credits: [], ...o });
const settled = (n: number): AccountEvent => ({
  type: 'HoldSettled',
  data: { jobId: job(n), runSeconds: 10, trialGpuSecondsCharged: 10, trialGpuSecondsReleased: 620, settledAt: minute(30) },
});

describe('Quotas, decided with the submission', () => {
  describe('When the account holds 8 of its 16 GPUs', () => {
    const history = [opened, placed(1, 8, minute(0))];
    it('places the hold for a job that fits exactly', () =>
      given(history).when(submit(8, minute(1))).then([decidedHold({ jobId, gpuCount: 8, seconds: 630, trialGpuSeconds: 5040, placedAt: minute(1) })]));
    it('refuses one GPU more (429)', () => given(history).when(submit(16, minute(1))).thenThrows(RateLimitedError));
    it('suggests when to retry', () => {
      const quotas = quotaStateOf(history);
      const account = history.reduce(evolveAccount, initialAccountState());
      expect(() => decideSubmission(submit(16, minute(1)), { account, quotas })).toThrow(expect.objectContaining({ retryAfterSeconds: policy.concurrencyRetryAfterSeconds }));
    });
  });

  describe('When a settled job gave its GPUs back', () => {
    it('accepts a 16-GPU job', () =>
      given([opened, placed(1, 8, minute(0)), settled(1)])
        .when(submit(16, minute(31)))
        .then([decidedHold({ jobId, gpuCount: 16, seconds: 630, trialGpuSeconds: 10_080, placedAt: minute(31) })]));
  });

  describe('When a job alone is larger than the quota', () => {
    it('refuses it as over the quota, naming it: waiting cannot help', () => {
      const account = [opened].reduce(evolveAccount, initialAccountState());
      expect(() => decideSubmission(submit(64, minute(0)), { account, quotas: initialQuotaState() })).toThrow(QuotaExceededError);
      expect(() => decideSubmission(submit(64, minute(0)), { account, quotas: initialQuotaState() })).toThrow(
        expect.objectContaining({ quota: { name: 'concurrent_gpus', limit: 16 } }),
      );
    });
  });

  describe('When the hour already saw 3 jobs (the quota)', () => {
    const history = [opened, placed(1, 1, minute(0)), settled(1), placed(2, 1, minute(10)), settled(2), placed(3, 1, minute(20)), settled(3)];
    it('refuses a fourth within the hour', () => given(history).when(submit(1, minute(59))).thenThrows(RateLimitedError));
    it('says to retry when the oldest leaves the window (1 minute later)', () => {
      expect(() => decideSubmission(submit(1, minute(59)), { account: history.reduce(evolveAccount, initialAccountState()), quotas: quotaStateOf(history) })).toThrow(
        expect.objectContaining({ retryAfterSeconds: 60 }),
      );
    });
    it('accepts it once the oldest is an hour old', () =>
      given(history).when(submit(1, minute(60))).then([decidedHold({ jobId, gpuCount: 1, seconds: 630, trialGpuSeconds: 630, placedAt: minute(60) })]));
  });

  describe('When the account cannot pay', () => {
    it('answers 402 before any quota', () => {
      const poor: AccountEvent = { ...accountOpened } as AccountEvent;
      expect(() => decideSubmission(submit(64, minute(0)), { account: [poor].reduce(evolveAccount, initialAccountState()), quotas: initialQuotaState() })).toThrow(/can pay/);
    });
  });

  it('remembers a bounded number of submissions', () => {
    let state = initialQuotaState();
    for (let i = 0; i < MAX_REMEMBERED + 5; i++) state = evolveQuota(evolveQuota(state, placed(i, 1, minute(0))), settled(i));
    expect(state.placedAt).toHaveLength(MAX_REMEMBERED);
    expect(state.openGpus).toEqual({});
  });
});

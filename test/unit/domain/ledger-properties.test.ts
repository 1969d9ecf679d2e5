import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DomainError } from '../../../domain/errors';
import { decideJob, type JobCommand, type ObserveCompute } from '../../../domain/job/decide';
import { billableSeconds, evolveJob, initialJobState, isFinal, type JobState } from '../../../domain/job/job';
import { decideSubmission, settlementFor } from '../../../domain/job-ledger';
import { evolveAccount, initialAccountState, type AccountState, type OpenAccountState } from '../../../domain/ledger/account';
import { creditIdFor, decideLedger } from '../../../domain/ledger/decide';
import { periodOf, periodStart } from '../../../domain/ledger/periods';
import { decideVoucher, evolveVoucher, initialVoucherState, type VoucherState } from '../../../domain/ledger/voucher';
import { defaultPolicy, type Policy } from '../../../domain/policy';
import type { AccountEvent, HoldSettled, VoucherEvent } from '../../../events/account-events';
import type { JobEvent } from '../../../events/job-events';
import { usageLinesOf, type UsageLine } from '../../../functions/views/usage-lines';

/**
 * The ledger's invariants over random histories, run through the same deciders the handlers call:
 * signups, voucher creation and redemption, submissions, compute observations (start, stop,
 * exhaustion) delivered late, twice and out of order as EventBridge may, cancels, monthly grants,
 * and the usage projection fed duplicated, shuffled stream records as DynamoDB Streams may; and
 * operators' actions among them: goodwill credits, suspensions (cancelling the account's jobs as the
 * suspend route does), reactivations and disabled vouchers.
 */

const BASE = Date.parse('2026-11-20T00:00:00.000Z');
const iso = (t: number) => new Date(BASE + t * 1000).toISOString();
const pad = (n: number) => String(n).padStart(26, '0');
const accountIdOf = (n: number) => `acct_${pad(n)}`;
const jobIdOf = (n: number) => `job_${pad(n)}`;

type Op =
  | { op: 'signup' }
  | { op: 'voucher'; amount: number; max: number; expiresIn: number | null; monthly: boolean }
  | { op: 'redeem'; account: number; voucher: number }
  | { op: 'submit'; account: number; gpus: number; runtime: number }
  | { op: 'start'; job: number }
  | { op: 'stop'; job: number; ok: boolean }
  | { op: 'exhaust'; job: number }
  | { op: 'cancel'; job: number }
  | { op: 'deliver'; pick: number }
  | { op: 'tick'; seconds: number }
  | { op: 'monthly' }
  | { op: 'adjust'; account: number; amount: number; expiresIn: number | null }
  | { op: 'suspend'; account: number }
  | { op: 'reactivate'; account: number }
  | { op: 'disable'; voucher: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.constant({ op: 'signup' as const }), weight: 2 },
  {
    arbitrary: fc.record({
      op: fc.constant('voucher' as const),
      amount: fc.integer({ min: 1, max: 5_000 }),
      max: fc.integer({ min: 1, max: 3 }),
      expiresIn: fc.option(fc.integer({ min: 60, max: 90 * 86_400 })),
      monthly: fc.boolean(),
    }),
    weight: 2,
  },
  { arbitrary: fc.record({ op: fc.constant('redeem' as const), account: fc.nat(), voucher: fc.nat() }), weight: 3 },
  {
    arbitrary: fc.record({ op: fc.constant('submit' as const), account: fc.nat(), gpus: fc.constantFrom(1, 2, 3, 8, 16), runtime: fc.integer({ min: 60, max: 4_000 }) }),
    weight: 4,
  },
  { arbitrary: fc.record({ op: fc.constant('start' as const), job: fc.nat() }), weight: 3 },
  { arbitrary: fc.record({ op: fc.constant('stop' as const), job: fc.nat(), ok: fc.boolean() }), weight: 3 },
  { arbitrary: fc.record({ op: fc.constant('exhaust' as const), job: fc.nat() }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('cancel' as const), job: fc.nat() }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('deliver' as const), pick: fc.nat() }), weight: 6 },
  { arbitrary: fc.record({ op: fc.constant('tick' as const), seconds: fc.oneof(fc.integer({ min: 1, max: 500 }), fc.integer({ min: 86_400, max: 40 * 86_400 })) }), weight: 3 },
  { arbitrary: fc.constant({ op: 'monthly' as const }), weight: 1 },
  {
    arbitrary: fc.record({ op: fc.constant('adjust' as const), account: fc.nat(), amount: fc.integer({ min: 1, max: 5_000 }), expiresIn: fc.option(fc.integer({ min: 60, max: 90 * 86_400 })) }),
    weight: 1,
  },
  { arbitrary: fc.record({ op: fc.constant('suspend' as const), account: fc.nat() }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('reactivate' as const), account: fc.nat() }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('disable' as const), voucher: fc.nat() }), weight: 1 },
);

/** What the compute side really did with a job (the truth the ledger must bill). */
interface ComputeTruth {
  startedAt: number | null;
  stoppedAt: number | null;
}

class World {
  t = 0;
  accounts: string[] = [];
  accountEvents = new Map<string, AccountEvent[]>();
  accountState = new Map<string, AccountState>();
  vouchers: Array<{ id: string; events: VoucherEvent[]; state: VoucherState }> = [];
  jobs: string[] = [];
  jobEvents = new Map<string, JobEvent[]>();
  jobState = new Map<string, JobState>();
  compute = new Map<string, ComputeTruth>();
  /** Observations the compute side emitted; `deliver` hands any of them (again) to the job decider. */
  outbox: Array<{ jobId: string; data: ObserveCompute['data'] }> = [];

  constructor(readonly policy: Policy) {}

  now = () => iso(this.t);

  appendAccount(accountId: string, events: AccountEvent[]) {
    this.accountEvents.get(accountId)!.push(...events);
    this.accountState.set(accountId, events.reduce(evolveAccount, this.accountState.get(accountId)!));
  }

  appendJob(jobId: string, events: JobEvent[]) {
    this.jobEvents.get(jobId)!.push(...events);
    this.jobState.set(jobId, events.reduce(evolveJob, this.jobState.get(jobId)!));
  }

  /** As functions/job-commands.ts: the job's events and, when they end it, the settlement, together. */
  runJob(jobId: string, command: JobCommand) {
    const state = this.jobState.get(jobId)!;
    let events: JobEvent[];
    try {
      events = decideJob(command, state);
    } catch (error) {
      if (error instanceof DomainError) return;
      throw error;
    }
    if (events.length === 0 || state.status === 'none') return;
    const accountId = state.job.accountId;
    const settlement = settlementFor(events, jobId, this.accountState.get(accountId)!, this.policy, this.now());
    this.appendJob(jobId, events);
    this.appendAccount(accountId, settlement);
  }

  apply(op: Op) {
    const now = this.now();
    switch (op.op) {
      case 'signup': {
        const accountId = accountIdOf(this.accounts.length + 1);
        this.accounts.push(accountId);
        this.accountEvents.set(accountId, []);
        this.accountState.set(accountId, initialAccountState());
        this.appendAccount(accountId, decideLedger({ type: 'OpenAccount', data: { accountId, email: `${accountId}@x.y` }, metadata: { now, policy: this.policy } }, initialAccountState()));
        return;
      }
      case 'voucher': {
        const voucherId = `vch_${pad(this.vouchers.length + 1)}`;
        const events = decideVoucher(
          {
            type: 'CreateVoucher',
            data: { voucherId, amount: op.amount, maxRedemptions: op.max, expiresAt: op.expiresIn === null ? null : iso(this.t + op.expiresIn), recurrence: op.monthly ? 'monthly' : null },
            metadata: { now },
          },
          initialVoucherState(),
        );
        this.vouchers.push({ id: voucherId, events, state: events.reduce(evolveVoucher, initialVoucherState()) });
        return;
      }
      case 'redeem': {
        if (this.accounts.length === 0 || this.vouchers.length === 0) return;
        const accountId = this.accounts[op.account % this.accounts.length]!;
        const voucher = this.vouchers[op.voucher % this.vouchers.length]!;
        if (voucher.state.status !== 'active') return;
        try {
          const voucherEvents = decideVoucher({ type: 'RedeemVoucher', data: { accountId, creditId: creditIdFor(voucher.id, periodOf(now)) }, metadata: { now } }, voucher.state);
          const { voucherId, amount, expiresAt, recurrence } = voucher.state;
          const accountEvents = decideLedger({ type: 'GrantVoucherCredit', data: { voucher: { voucherId, amount, expiresAt, recurrence } }, metadata: { now, policy: this.policy } }, this.accountState.get(accountId)!);
          voucher.events.push(...voucherEvents);
          voucher.state = voucherEvents.reduce(evolveVoucher, voucher.state);
          this.appendAccount(accountId, accountEvents);
        } catch (error) {
          if (!(error instanceof DomainError)) throw error;
        }
        return;
      }
      case 'submit': {
        if (this.accounts.length === 0) return;
        const accountId = this.accounts[op.account % this.accounts.length]!;
        const jobId = jobIdOf(this.jobs.length + 1);
        const submit = { jobId, accountId, name: null, image: 'a/b:1', command: ['true'], env: {}, gpuType: 'a100' as const, gpuCount: op.gpus, maxRuntimeSeconds: op.runtime };
        try {
          const decided = decideSubmission({ type: 'SubmitJob', data: submit, metadata: { now, policy: this.policy } }, { account: this.accountState.get(accountId)! });
          this.jobs.push(jobId);
          this.jobEvents.set(jobId, []);
          this.jobState.set(jobId, initialJobState());
          this.compute.set(jobId, { startedAt: null, stoppedAt: null });
          this.appendJob(jobId, decided.job);
          this.appendAccount(accountId, decided.account);
        } catch (error) {
          if (!(error instanceof DomainError)) throw error;
          coverage.refused++;
        }
        return;
      }
      case 'start': {
        const jobId = this.pickJob(op.job);
        const truth = jobId && this.compute.get(jobId);
        if (!jobId || !truth || truth.startedAt !== null || truth.stoppedAt !== null) return;
        const state = this.jobState.get(jobId)!;
        if (state.status !== 'queued' && state.status !== 'starting') return;
        truth.startedAt = this.t;
        this.outbox.push({ jobId, data: { status: 'RUNNING', batchJobId: `b-${jobId}`, startedAt: iso(this.t) } });
        return;
      }
      case 'stop':
      case 'exhaust': {
        const jobId = this.pickJob(op.job);
        const truth = jobId && this.compute.get(jobId);
        if (!jobId || !truth || truth.startedAt === null || truth.stoppedAt !== null) return;
        const state = this.jobState.get(jobId)!;
        if (state.status === 'none') return;
        // Compute never lets a job outlive its hold: SIGKILL lands at the held time.
        const held = state.job.heldSeconds;
        const stoppedAt = op.op === 'exhaust' ? truth.startedAt + held : Math.min(this.t, truth.startedAt + held);
        this.t = Math.max(this.t, stoppedAt);
        truth.stoppedAt = stoppedAt;
        const ok = op.op === 'stop' && op.ok;
        this.outbox.push({
          jobId,
          data: {
            status: ok ? 'SUCCEEDED' : 'FAILED',
            batchJobId: `b-${jobId}`,
            startedAt: iso(truth.startedAt),
            stoppedAt: iso(stoppedAt),
            exitCode: ok ? 0 : op.op === 'exhaust' ? 137 : 1,
            statusReason: op.op === 'exhaust' ? 'Job attempt duration exceeded timeout' : null,
            // Batch's timeout at the held time, as the compute adapter reads it.
            cause: op.op === 'exhaust' ? 'timeout' : null,
          },
        });
        return;
      }
      case 'cancel': {
        const jobId = this.pickJob(op.job);
        if (!jobId) return;
        const truth = this.compute.get(jobId)!;
        const state = this.jobState.get(jobId)!;
        // A queued job the compute side never started is cancelled at once; it must then never start.
        if (state.status === 'queued' && truth.startedAt === null) truth.stoppedAt = this.t;
        if (state.status === 'queued' && truth.startedAt !== null) return; // started, not yet observed: stop via compute
        this.runJob(jobId, { type: 'RequestCancel', data: {}, metadata: { now } });
        return;
      }
      case 'deliver': {
        if (this.outbox.length === 0) return;
        // Any emitted observation, again or late: EventBridge duplicates and reorders.
        const { jobId, data } = this.outbox[op.pick % this.outbox.length]!;
        this.runJob(jobId, { type: 'ObserveCompute', data, metadata: { now } });
        return;
      }
      case 'tick':
        this.t += op.seconds;
        return;
      case 'monthly': {
        // As functions/grant-monthly-credits.ts: the disabled vouchers, with when, from their own streams.
        const disabledVouchers = Object.fromEntries(
          this.vouchers.flatMap((v) => (v.state.status === 'disabled' && v.state.disabled ? [[v.id, v.state.disabled.at]] : [])),
        );
        for (const accountId of this.accounts) {
          this.appendAccount(accountId, decideLedger({ type: 'GrantMonthlyCredits', data: { disabledVouchers }, metadata: { now, policy: this.policy } }, this.accountState.get(accountId)!));
        }
        return;
      }
      case 'adjust': {
        if (this.accounts.length === 0) return;
        const accountId = this.accounts[op.account % this.accounts.length]!;
        const creditId = `cred_adj_${this.t}_${op.amount}`;
        const expiresAt = op.expiresIn === null ? null : iso(this.t + op.expiresIn);
        this.appendAccount(
          accountId,
          decideLedger({ type: 'GrantAdjustment', data: { creditId, amount: op.amount, expiresAt, operator: 'op', reason: 'goodwill' }, metadata: { now, policy: this.policy } }, this.accountState.get(accountId)!),
        );
        coverage.adjustments++;
        return;
      }
      case 'suspend': {
        if (this.accounts.length === 0) return;
        const accountId = this.accounts[op.account % this.accounts.length]!;
        this.appendAccount(accountId, decideLedger({ type: 'SuspendAccount', data: { operator: 'op', reason: 'abuse' }, metadata: { now, policy: this.policy } }, this.accountState.get(accountId)!));
        // As the suspend route: every job with an open hold is cancelled; a started one is stopped by
        // the compute side (SIGTERM, then the grace) and reported, late or twice like any observation.
        const state = this.accountState.get(accountId)! as OpenAccountState;
        for (const jobId of Object.keys(state.holds)) {
          const truth = this.compute.get(jobId)!;
          // Started but not yet observed: as for a customer's cancel, the start is reported first.
          if (this.jobState.get(jobId)!.status === 'queued' && truth.startedAt !== null) {
            for (const seen of this.outbox.filter((o) => o.jobId === jobId)) this.runJob(jobId, { type: 'ObserveCompute', data: seen.data, metadata: { now } });
          }
          const job = this.jobState.get(jobId)!;
          if (job.status === 'queued' && truth.startedAt === null) truth.stoppedAt = this.t;
          this.runJob(jobId, { type: 'RequestCancel', data: {}, metadata: { now } });
          if (truth.startedAt !== null && truth.stoppedAt === null && job.status !== 'none') {
            truth.stoppedAt = Math.min(this.t + this.policy.stopGraceSeconds, truth.startedAt + job.job.heldSeconds);
            this.outbox.push({
              jobId,
              data: { status: 'FAILED', batchJobId: `b-${jobId}`, startedAt: iso(truth.startedAt), stoppedAt: iso(truth.stoppedAt), exitCode: 143, statusReason: 'sx:cancelled' },
            });
            coverage.suspendedRunning++;
          }
        }
        return;
      }
      case 'reactivate': {
        if (this.accounts.length === 0) return;
        const accountId = this.accounts[op.account % this.accounts.length]!;
        this.appendAccount(accountId, decideLedger({ type: 'ReactivateAccount', data: { operator: 'op', reason: 'cleared' }, metadata: { now, policy: this.policy } }, this.accountState.get(accountId)!));
        return;
      }
      case 'disable': {
        if (this.vouchers.length === 0) return;
        const voucher = this.vouchers[op.voucher % this.vouchers.length]!;
        const events = decideVoucher({ type: 'DisableVoucher', data: { operator: 'op', reason: 'leaked' }, metadata: { now } }, voucher.state);
        voucher.events.push(...events);
        voucher.state = events.reduce(evolveVoucher, voucher.state);
        return;
      }
      default: {
        const unknown: never = op;
        return unknown;
      }
    }
  }

  pickJob(n: number): string | undefined {
    return this.jobs.length === 0 ? undefined : this.jobs[n % this.jobs.length];
  }

  /** Delivers every observation once more, in order, so every stopped job reaches its final state. */
  drain() {
    for (const { jobId, data } of [...this.outbox]) this.runJob(jobId, { type: 'ObserveCompute', data, metadata: { now: this.now() } });
  }
}

function checkBalances(state: AccountState) {
  if (state.status !== 'open') return;
  const { trial } = state;
  const holds = Object.values(state.holds);
  expect(trial.remaining).toBeGreaterThanOrEqual(0);
  expect(trial.charged).toBeGreaterThanOrEqual(0);
  expect(trial.remaining + holds.reduce((s, h) => s + h.trialGpuSeconds, 0) + trial.charged).toBe(trial.granted);
  for (const credit of Object.values(state.credits)) {
    expect(credit.remaining).toBeGreaterThanOrEqual(0);
    expect(credit.held).toBeGreaterThanOrEqual(0);
    const heldByHolds = holds.flatMap((h) => h.credits).filter((p) => p.creditId === credit.creditId).reduce((s, p) => s + p.amount, 0);
    expect(credit.held).toBe(heldByHolds);
    expect(credit.remaining + credit.held + credit.charged).toBe(credit.granted);
  }
  // Each hold's sources pay for exactly its GPU-seconds.
  for (const hold of holds) {
    expect(hold.trialGpuSeconds + hold.credits.reduce((s, p) => s + p.gpuSeconds, 0)).toBe(hold.seconds * hold.gpuCount);
  }
}

/** How much of the interesting ground the runs covered, so a generator that stops reaching it fails. */
const coverage = { settledWithCredits: 0, settledOnTrial: 0, exhausted: 0, monthlyGrants: 0, refused: 0, lowBalance: 0, adjustments: 0, suspendedRunning: 0 };

const lineKey = (line: UsageLine) => `${line.jobId}#${line.source}`;

function runHistory(ops: Op[], policy: Policy, shuffleSeed: number) {
  const world = new World(policy);
  for (const op of ops) {
    world.apply(op);
    for (const state of world.accountState.values()) checkBalances(state);
  }
  world.drain();

  for (const accountId of world.accounts) {
    const events = world.accountEvents.get(accountId)!;
    const state = world.accountState.get(accountId)! as OpenAccountState;
    checkBalances(state);

    // Replaying all events from scratch gives the same balances, and so does a snapshot (JSON round
    // trip, as stored) plus the events after it.
    const replayed = events.reduce(evolveAccount, initialAccountState());
    expect(replayed).toEqual(state);
    const cut = events.length === 0 ? 0 : shuffleSeed % events.length;
    const snapshot = JSON.parse(JSON.stringify(events.slice(0, cut).reduce(evolveAccount, initialAccountState()))) as AccountState;
    expect(events.slice(cut).reduce(evolveAccount, snapshot)).toEqual(state);

    // Every running second is paid exactly once: one settlement per final job, matching what the
    // compute side ran and what the job itself reports; none for a job still open.
    const settlements = events.filter((e): e is Extract<AccountEvent, { type: 'HoldSettled' }> => e.type === 'HoldSettled');
    const settledJobs = settlements.map((s) => s.data.jobId);
    expect(new Set(settledJobs).size).toBe(settledJobs.length);
    for (const jobId of world.jobs) {
      const job = world.jobState.get(jobId)!;
      if (job.status === 'none' || job.job.accountId !== accountId) continue;
      const settlement = settlements.find((s) => s.data.jobId === jobId);
      if (!isFinal(job)) {
        expect(settlement).toBeUndefined();
        expect(state.holds[jobId]).toBeDefined();
        continue;
      }
      expect(state.holds[jobId]).toBeUndefined();
      const truth = world.compute.get(jobId)!;
      const ran =
        truth.startedAt === null || truth.stoppedAt === null ? 0 : billableSeconds(iso(truth.startedAt), iso(truth.stoppedAt), job.job.heldSeconds);
      expect(job.usage.gpuSeconds).toBe(ran * job.job.gpuCount);
      const paid = settlement!.data;
      const creditSeconds = (paid.creditsCharged ?? []).reduce((s, c) => s + c.gpuSeconds, 0);
      const creditCost = (paid.creditsCharged ?? []).reduce((s, c) => s + c.amount, 0);
      expect(paid.trialGpuSecondsCharged + creditSeconds).toBe(job.usage.gpuSeconds);
      expect(paid.trialGpuSecondsCharged).toBe(job.usage.trialGpuSeconds);
      expect(creditCost).toBe(job.usage.cost.amount);
      if (creditSeconds > 0) coverage.settledWithCredits++;
      if (paid.trialGpuSecondsCharged > 0) coverage.settledOnTrial++;
      if (job.status === 'failed' && job.failureReason === 'insufficient_balance') coverage.exhausted++;
    }
    // Suspended: no hold is placed until reactivated, and every job the suspension cancelled is settled.
    let suspended = false;
    for (const event of events) {
      if (event.type === 'AccountSuspended') suspended = true;
      if (event.type === 'AccountReactivated') suspended = false;
      if (suspended) expect(event.type).not.toBe('HoldPlaced');
    }
    if (state.suspended) expect(Object.keys(state.holds)).toEqual([]);

    const grants = events.filter((e): e is Extract<AccountEvent, { type: 'CreditGranted' }> => e.type === 'CreditGranted');
    coverage.monthlyGrants += grants.filter((g) => grants.some((h) => h.data.voucherId === g.data.voucherId && h.data.period < g.data.period)).length;
    coverage.lowBalance += events.filter((e) => e.type === 'BalanceLow').length;

    // The usage projection, fed every record twice in a random order, ends with the same lines as
    // fed once in order, and they add up to what the balances lost.
    const once = new Map<string, UsageLine>();
    for (const s of settlements) for (const line of usageLinesOf(s.data as HoldSettled['data'], 'a100')) once.set(lineKey(line), line);
    const doubled = fc.sample(fc.shuffledSubarray([...settlements, ...settlements], { minLength: settlements.length * 2 }), { numRuns: 1, seed: shuffleSeed })[0]!;
    const projected = new Map<string, UsageLine>();
    for (const s of doubled) for (const line of usageLinesOf(s.data as HoldSettled['data'], 'a100')) projected.set(lineKey(line), line);
    expect(projected).toEqual(once);
    const lines = [...projected.values()];
    expect(lines.filter((l) => l.source === 'trial').reduce((s, l) => s + l.gpuSeconds, 0)).toBe(state.trial.charged);
    expect(lines.reduce((s, l) => s + l.cost, 0)).toBe(Object.values(state.credits).reduce((s, c) => s + c.charged, 0));
  }

  // Monthly grants: each voucher at most once per month per account.
  for (const events of world.accountEvents.values()) {
    const grants = events.filter((e) => e.type === 'CreditGranted').map((e) => `${e.data.voucherId}@${e.data.period}`);
    expect(new Set(grants).size).toBe(grants.length);
  }
  // A disabled voucher grants no month that began after it was disabled, and is redeemed no more.
  for (const voucher of world.vouchers) {
    if (voucher.state.status !== 'disabled' || !voucher.state.disabled) continue;
    const disabledAt = Date.parse(voucher.state.disabled.at);
    const after = voucher.events.slice(voucher.events.findIndex((e) => e.type === 'VoucherDisabled') + 1);
    expect(after.filter((e) => e.type === 'VoucherRedeemed')).toEqual([]);
    for (const events of world.accountEvents.values()) {
      for (const e of events) {
        if (e.type === 'CreditGranted' && e.data.voucherId === voucher.id && Date.parse(e.data.grantedAt) > disabledAt) {
          expect(Date.parse(periodStart(e.data.period))).toBeLessThan(disabledAt);
        }
      }
    }
  }
  // A voucher is never redeemed past its limit, nor twice by one account.
  for (const voucher of world.vouchers) {
    if (voucher.state.status === 'none') continue;
    const redeemers = voucher.events.filter((e) => e.type === 'VoucherRedeemed').map((e) => e.data.accountId);
    expect(redeemers.length).toBeLessThanOrEqual(voucher.state.maxRedemptions);
    expect(new Set(redeemers).size).toBe(redeemers.length);
  }
}

const policies = fc.record({
  trialGpuSeconds: fc.constantFrom(0, 300, 1_000),
  stopGraceSeconds: fc.constantFrom(0, 30),
  price: fc.constantFrom(0, 1, 1163, 3600, 9999),
});

describe('Ledger properties (random histories, duplicated and reordered deliveries)', () => {
  it('never goes negative, balances at every step, pays every running second exactly once, and replays to the same balances', () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 100, size: 'max' }), policies, fc.integer({ min: 0, max: 1_000_000 }), (ops, p, seed) => {
        const policy: Policy = { ...defaultPolicy, trialGpuSeconds: p.trialGpuSeconds, stopGraceSeconds: p.stopGraceSeconds, prices: { a100: p.price } };
        runHistory(ops, policy, seed);
      }),
      { numRuns: 150 },
    );
    for (const [what, count] of Object.entries(coverage)) expect({ what, reached: count > 0 }).toEqual({ what, reached: true });
  }, 120_000);
});

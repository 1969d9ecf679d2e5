import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { evolveAccount, initialAccountState } from '../../domain/ledger/account';
import { quotaStateOf } from '../../domain/quotas';
import type { AccountEvent } from '../../events/account-events';
import { load } from '../../functions/aggregates/aggregate';
import { accounts, vouchers } from '../../functions/aggregates/ledger';
import { voucherCodeHash } from '../../functions/api/create-voucher';
import { grantMonthlyCredits } from '../../functions/grant-monthly-credits';
import { metrics } from '../../functions/metrics';
import { loadAccount, readAccountSnapshot, refreshAccountSnapshot } from '../../functions/views/account-snapshots';
import { apiClient, eventually } from '../../infra/local/stack-process';
import { startTestStack, type TestStack } from '../support/local-stack';

/**
 * The ledger on the real event store (DynamoDB Local), through the HTTP handlers of an in-process
 * local stack. No trial here (trialGpuSeconds 0), so every job is paid from credits at the default
 * A100 price (1163 fen per GPU-hour).
 */
let stack: TestStack;
let admin: ReturnType<typeof apiClient>;

beforeAll(async () => {
  stack = await startTestStack({
    gpus: 64,
    policy: { trialGpuSeconds: 0 },
    pollMs: 100,
  });
  admin = apiClient(stack.url, stack.adminKey);
}, 60_000);

afterAll(async () => {
  await stack?.drop();
}, 60_000);

async function signUp() {
  const res = await apiClient(stack.url).post('/v1/signup', { email: `u-${randomBytes(6).toString('hex')}@example.com` });
  expect(res.status).toBe(201);
  return { id: res.body.account.id as string, api: apiClient(stack.url, res.body.api_key) };
}

async function voucher(body: Record<string, unknown>) {
  const res = await admin.post('/v1/admin/vouchers', body);
  expect(res.status).toBe(201);
  return res.body as { id: string; code: string };
}

const streamEvents = async (streamId: string) => (await stack.deps.store.readStream(streamId)).events;

describe('vouchers', () => {
  it('admin only: a customer key cannot create vouchers', async () => {
    const { api } = await signUp();
    const res = await api.post('/v1/admin/vouchers', { amount: { amount: 100, currency: 'CNY' }, max_redemptions: 1 });
    expect(res.status).toBe(401);
  });

  it('50 concurrent redemptions of a single-use code: exactly one succeeds, 49 get 409', async () => {
    const customers = await Promise.all(Array.from({ length: 50 }, () => signUp()));
    const { code } = await voucher({ amount: { amount: 5000, currency: 'CNY' }, max_redemptions: 1 });

    const results = await Promise.all(customers.map((c) => c.api.post('/v1/vouchers/redeem', { code })));

    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(49);
    expect(results.filter((r) => r.status === 409).every((r) => r.body.type === 'conflict')).toBe(true);
    // And the stores agree: one redemption on the voucher, one credit on one account.
    expect((await streamEvents(vouchers.streamId(voucherCodeHash(code)))).filter((e) => e.type === 'VoucherRedeemed')).toHaveLength(1);
    const granted = await Promise.all(customers.map(async (c) => (await streamEvents(accounts.streamId(c.id))).filter((e) => e.type === 'CreditGranted').length));
    expect(granted.reduce((a, b) => a + b, 0)).toBe(1);
  }, 120_000);

  it('answers unknown, expired, exhausted and already-redeemed codes as API.md says', async () => {
    const first = await signUp();
    const second = await signUp();
    const { code } = await voucher({ amount: { amount: 100, currency: 'CNY' }, max_redemptions: 2, expires_at: new Date(Date.now() + 3_600_000).toISOString() });
    // Codes are matched case- and dash-insensitively.
    const redeemed = await first.api.post('/v1/vouchers/redeem', { code: code.toLowerCase().replace(/-/g, '') });
    expect(redeemed.status).toBe(200);
    expect(redeemed.body.credit).toMatchObject({ remaining: { amount: 100, currency: 'CNY' }, expires_at: expect.any(String) });
    expect((await first.api.post('/v1/vouchers/redeem', { code })).body.type).toBe('conflict');
    expect((await first.api.post('/v1/vouchers/redeem', { code: 'SX-NOPE-NOPE-NOPE-NOPE' })).status).toBe(404);
    const single = await voucher({ amount: { amount: 100, currency: 'CNY' }, max_redemptions: 1 });
    expect((await first.api.post('/v1/vouchers/redeem', { code: single.code })).status).toBe(200);
    expect((await second.api.post('/v1/vouchers/redeem', { code: single.code })).status).toBe(409);
    // An hour and a second later on the service's clock (not this machine's speed) the code has expired.
    const later = vi.spyOn(stack.deps, 'now').mockImplementation(() => new Date(Date.now() + 3_601_000));
    const expired = await second.api.post('/v1/vouchers/redeem', { code });
    later.mockRestore();
    expect({ status: expired.status, type: expired.body.type }).toEqual({ status: 404, type: 'not_found' });
    // Bad input writes nothing and is a 400.
    for (const body of [{ amount: { amount: 0, currency: 'CNY' } }, { amount: { amount: 1, currency: 'USD' } }, { amount: { amount: 1, currency: 'CNY' }, expires_at: '2020-01-01T00:00:00Z' }, { amount: { amount: 1.5, currency: 'CNY' } }]) {
      expect((await admin.post('/v1/admin/vouchers', body)).status).toBe(400);
    }
    expect((await first.api.post('/v1/vouchers/redeem', {})).status).toBe(400);
  }, 30_000);
});

describe('holds', () => {
  it('20 concurrent submissions on an account that can pay for 3: exactly 3 holds and 17 × 402', async () => {
    const { id, api } = await signUp();
    // 1 GPU, 60 s + 30 s grace = 90 GPU-seconds at 1163 fen/h = 29.1 → 30 fen a hold; ¥1.00 pays for 3 (10 fen left: 30 s < 60 s)
    const { code } = await voucher({ amount: { amount: 100, currency: 'CNY' }, max_redemptions: 1 });
    expect((await api.post('/v1/vouchers/redeem', { code })).status).toBe(200);

    const results = await Promise.all(
      Array.from({ length: 20 }, () => api.post('/v1/jobs', { image: 'a/b:1', command: ['sleep', '600'], gpu_count: 1, max_runtime_seconds: 60 })),
    );

    expect(results.filter((r) => r.status === 201)).toHaveLength(3);
    expect(results.filter((r) => r.status === 402 && r.body.type === 'insufficient_balance')).toHaveLength(17);
    const events = await streamEvents(accounts.streamId(id));
    expect(events.filter((e) => e.type === 'HoldPlaced')).toHaveLength(3);
    const account = (await api.get('/v1/account')).body;
    expect(account.held.amount).toEqual({ amount: 90, currency: 'CNY' });
    expect(account.credits[0]).toMatchObject({ remaining: { amount: 10 }, held: { amount: 90 } });
    // The jobs run until cancelled, so their holds are still open when the account is read above.
    for (const created of results.filter((r) => r.status === 201)) expect((await api.post(`/v1/jobs/${created.body.id}/cancel`)).status).toBe(200);
  }, 60_000);

  it('settles a job on its credit: the job, the account, the usage lines and the metrics agree to the fen', async () => {
    const recorded = vi.spyOn(metrics, 'addMetric');
    const { api } = await signUp();
    const { code } = await voucher({ amount: { amount: 1000, currency: 'CNY' }, max_redemptions: 1 });
    await api.post('/v1/vouchers/redeem', { code });
    const created = await api.post('/v1/jobs', { image: 'a/b:1', command: ['sleep', '1.5'], gpu_count: 8, max_runtime_seconds: 60 });
    expect(created.status).toBe(201);
    const job = await eventually(async () => {
      const res = await api.get(`/v1/jobs/${created.body.id}`);
      return res.body.status === 'succeeded' && res.body;
    }, 30_000, 'the job to succeed');

    const gpuSeconds = job.usage.gpu_seconds as number;
    expect(gpuSeconds).toBeGreaterThanOrEqual(16);
    expect(job.usage).toEqual({ gpu_seconds: gpuSeconds, trial_gpu_seconds: 0, cost: { amount: Math.ceil((gpuSeconds * 1163) / 3600), currency: 'CNY' } });
    const account = (await api.get('/v1/account')).body;
    expect(account.credits[0]).toMatchObject({ used: { amount: job.usage.cost.amount }, remaining: { amount: 1000 - job.usage.cost.amount }, held: { amount: 0 } });
    const usage = await eventually(async () => {
      const res = await api.get('/v1/usage');
      return res.body.data.length > 0 && res.body;
    }, 10_000, 'usage lines');
    expect(usage.data).toEqual([
      expect.objectContaining({ job_id: job.id, gpu_type: 'a100', gpu_seconds: gpuSeconds, trial_gpu_seconds: 0, cost: job.usage.cost, source: 'credit', credit_id: account.credits[0].id }),
    ]);
    expect(usage.total).toEqual({ gpu_seconds: gpuSeconds, trial_gpu_seconds: 0, cost: job.usage.cost });
    // The range is [from, to) on when the billed period ended.
    const ended = usage.data[0].period_end as string;
    expect((await api.get(`/v1/usage?from=${encodeURIComponent(ended)}`)).body.data).toHaveLength(1);
    expect((await api.get(`/v1/usage?to=${encodeURIComponent(ended)}`)).body.data).toHaveLength(0);
    expect((await api.get('/v1/usage?from=yesterday')).status).toBe(400);
    // What an operator sees: the submission and the GPU-seconds the settlement billed (other tests' jobs may add theirs).
    expect(recorded).toHaveBeenCalledWith('JobsSubmitted', 'Count', 1);
    expect(recorded).toHaveBeenCalledWith('GpuSecondsSettled', 'Count', gpuSeconds);
    recorded.mockRestore();
  }, 60_000);
});

describe('usage ranges', () => {
  it('answers any from and to with 200 or a 400 problem, never 5xx: far years, offsets past year 9999 or before 0000', async () => {
    const { api } = await signUp();
    const ok = [
      'from=9000-01-01T00:00:00Z',
      'from=9999-12-31T23:59:59Z',
      'to=9000-01-01T00:00:00Z',
      'from=0000-01-01T00:00:00Z',
      'to=0000-01-01T00:00:00Z',
      'from=9999-12-31T23:00:00-05:00',
      'to=9999-12-31T23:00:00-05:00',
      'from=0000-01-01T00:00:00%2B05:00',
      'to=0000-01-01T00:00:00%2B05:00',
      'from=0000-01-01T00:00:00%2B06:00&to=0000-01-01T00:00:00%2B05:00',
      'from=2026-01-01T00:00:00Z&to=2026-01-01T00:00:00Z',
      'from=1999-01-01T00:00:00Z&to=9999-12-31T23:59:59.999Z',
    ];
    for (const query of ok) {
      const res = await api.get(`/v1/usage?${query}`);
      expect({ query, status: res.status, data: res.body.data }).toEqual({ query, status: 200, data: [] });
    }
    for (const query of ['from=2026-02-30T00:00:00Z', 'from=2027-01-01T00:00:00Z&to=2026-01-01T00:00:00Z', 'to=10000-01-01T00:00:00Z', 'from=']) {
      const res = await api.get(`/v1/usage?${query}`);
      expect({ query, status: res.status, type: res.body.type }).toEqual({ query, status: 400, type: 'invalid_request' });
    }
  }, 30_000);
});

describe('monthly vouchers', () => {
  it('credit again each Shanghai month, exactly once even when the scheduler runs twice at once or late', async () => {
    const { id, api } = await signUp();
    const { code } = await voucher({ amount: { amount: 3000, currency: 'CNY' }, max_redemptions: 10, recurrence: 'monthly' });
    expect((await api.post('/v1/vouchers/redeem', { code })).status).toBe(200);
    const grants = async () => (await streamEvents(accounts.streamId(id))).filter((e) => e.type === 'CreditGranted');
    // The projection indexes the monthly voucher for the scheduler.
    const realNow = stack.deps.now;
    const inTwoMonths = new Date(Date.now() + 62 * 86_400_000);
    try {
      stack.deps.now = () => inTwoMonths;
      await eventually(async () => (await grantMonthlyCredits(stack.deps)) > 0 || (await grants()).length > 1, 10_000, 'the monthly index');
      await Promise.all([grantMonthlyCredits(stack.deps), grantMonthlyCredits(stack.deps)]);
      await grantMonthlyCredits(stack.deps);
    } finally {
      stack.deps.now = realNow;
    }
    const periods = (await grants()).map((e) => (e.data as { period: string }).period);
    expect(new Set(periods).size).toBe(periods.length);
    expect(periods.length).toBeGreaterThanOrEqual(3);
    expect(periods.length).toBeLessThanOrEqual(4);
  }, 30_000);
});

describe('account snapshots', () => {
  it('load from the snapshot plus the events after it, equal to a full fold', async () => {
    const { id } = await signUp();
    const streamId = accounts.streamId(id);
    // 150 holds placed and settled, appended directly (100 events at most per append)
    let version = (await stack.deps.store.readStream(streamId)).version;
    const pairs: AccountEvent[] = [];
    for (let i = 0; i < 75; i++) {
      const jobId = `job_${String(i).padStart(26, '0')}`;
      pairs.push(
        { type: 'HoldPlaced', data: { jobId, gpuType: 'a100', gpuCount: 1, seconds: 60, trialGpuSeconds: 0, ratePerGpuHour: 1163, credits: [], placedAt: new Date().toISOString() } },
        { type: 'HoldSettled', data: { jobId, runSeconds: 0, trialGpuSecondsCharged: 0, trialGpuSecondsReleased: 0, creditsCharged: [], settledAt: new Date().toISOString() } },
      );
    }
    // and two holds still open when the snapshot is taken: their GPUs must still count for the quota
    for (const n of [1, 2]) {
      const jobId = `job_${String(100 + n).padStart(26, '0')}`;
      pairs.push({ type: 'HoldPlaced', data: { jobId, gpuType: 'a100', gpuCount: 4, seconds: 60, trialGpuSeconds: 0, ratePerGpuHour: 1163, credits: [], placedAt: new Date().toISOString() } });
    }
    for (let i = 0; i < pairs.length; i += 50) {
      const chunk = pairs.slice(i, i + 50);
      await stack.deps.store.append([{ streamId, expectedVersion: version, events: chunk }], { at: new Date().toISOString() });
      version += chunk.length;
    }
    // every = 1: the project-ledger consumer may already have snapshotted part of the way (at 101 or
    // 151), after which the default threshold of 100 would leave that older snapshot in place.
    await refreshAccountSnapshot(stack.deps, id, 1);
    const snapshot = await readAccountSnapshot(stack.deps, id);
    expect(snapshot?.version).toBe(version);
    const full = await load(stack.deps.store, accounts, id);
    const fromSnapshot = await loadAccount(stack.deps, id);
    expect(fromSnapshot.snapshotVersion).toBe(version);
    expect(fromSnapshot.events).toHaveLength(0);
    expect(fromSnapshot.state).toEqual(full.state);
    expect(fromSnapshot.version).toBe(full.version);
    expect(full.events.map((e) => e.event).reduce(evolveAccount, initialAccountState())).toEqual(full.state);
    // The quotas come back from the snapshot too, not from the (empty) tail of events after it.
    expect(fromSnapshot.quotas).toEqual(quotaStateOf(full.events.map((e) => e.event)));
    expect(Object.values(fromSnapshot.quotas.openGpus)).toEqual([4, 4]);
  }, 30_000);
});

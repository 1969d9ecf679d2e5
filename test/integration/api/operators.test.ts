import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpRoutes } from '../../../infra/routes';
import { adminRoutes } from '../../../infra/access';
import { apiClient, eventually } from '../../../infra/local/stack-process';
import { signUp, startTestStack, type Api } from '../../support/local-stack';

/**
 * The operators' routes end to end on the local stack: search, detail, the ledger statement,
 * adjustments, suspension (keys refused at once, jobs cancelled and settled), reactivation, vouchers
 * and their disabling, jobs across accounts; and a customer's key on every admin route: 401.
 */
let stack: Awaited<ReturnType<typeof startTestStack>>;
let admin: Api;
let ada: Awaited<ReturnType<typeof signUp>>;
const as = (operator: string) => ({ 'x-operator': operator });

beforeAll(async () => {
  stack = await startTestStack();
  admin = apiClient(stack.url, stack.adminKey);
  ada = await signUp(stack.url, 'Ada.Lovelace@example.com');
  await signUp(stack.url, 'adam@example.com');
  await signUp(stack.url, 'bob@example.com');
}, 60_000);
afterAll(async () => stack?.drop(), 60_000);

describe('isolation', () => {
  const routes = httpRoutes.filter((r) => adminRoutes.has(`${r.method} ${r.path}`));
  it('covers every admin route', () => expect(routes.length).toBe(adminRoutes.size));
  it.each(routes.map((r) => [`${r.method} ${r.path}`, r] as const))("%s: a customer's key is 401", async (_name, route) => {
    const path = route.path.replace('{id}', route.path.includes('vouchers') ? 'vch_01aaaaaaaaaaaaaaaaaaaaaaaa' : ada.accountId);
    const res = await ada.api.request(route.method, path, route.method === 'POST' ? { reason: 'x' } : undefined, as('mallory'));
    expect({ status: res.status, type: res.body.type }).toEqual({ status: 401, type: 'unauthorized' });
  });
});

describe('accounts', () => {
  it('finds accounts by email prefix, case-insensitively, from the search view', async () => {
    const found = await eventually(async () => {
      const res = await admin.get('/v1/admin/accounts?email=AD');
      return res.body.data?.length === 2 && res.body;
    }, 15_000, 'both ad… accounts in the search view');
    expect(found.data.map((a: { email: string }) => a.email)).toEqual(['Ada.Lovelace@example.com', 'adam@example.com']);
    expect(found.data[0]).toMatchObject({ id: ada.accountId, status: 'open', suspension: null, jobs: { total: 0 }, storage: { used_bytes: 0 } });
    const page = await admin.get('/v1/admin/accounts?email=ad&limit=1');
    expect(page.body).toMatchObject({ has_more: true, data: [{ email: 'Ada.Lovelace@example.com' }] });
    const next = await admin.get(`/v1/admin/accounts?email=ad&limit=1&cursor=${page.body.next_cursor}`);
    expect(next.body).toMatchObject({ has_more: false, data: [{ email: 'adam@example.com' }] });
  });

  it('answers 404 for an unknown account and 400 without an operator or reason', async () => {
    expect((await admin.get('/v1/admin/accounts/acct_01aaaaaaaaaaaaaaaaaaaaaaaa')).status).toBe(404);
    const noOperator = await admin.post(`/v1/admin/accounts/${ada.accountId}/suspend`, { reason: 'x' });
    expect({ status: noOperator.status, type: noOperator.body.type }).toEqual({ status: 400, type: 'invalid_request' });
    const noReason = await admin.post(`/v1/admin/accounts/${ada.accountId}/suspend`, {}, as('lin'));
    expect({ status: noReason.status, type: noReason.body.type }).toEqual({ status: 400, type: 'invalid_request' });
    expect((await ada.api.get('/v1/account')).status).toBe(200);
  });

  it('grants an adjustment the customer sees as a credit, and lists it in the ledger with operator and reason', async () => {
    const credit = await admin.post(`/v1/admin/accounts/${ada.accountId}/credits`, { amount: { amount: 1250, currency: 'CNY' }, reason: 'outage on 25 Nov' }, as('lin'));
    expect(credit.status).toBe(201);
    expect(credit.body).toMatchObject({ source: 'adjustment', voucher_id: null, granted: { amount: 1250, currency: 'CNY' } });
    const account = await ada.api.get('/v1/account');
    expect(account.body.credits).toEqual([expect.objectContaining({ id: credit.body.id, source: 'adjustment' })]);
    const ledger = await admin.get(`/v1/admin/accounts/${ada.accountId}/ledger`);
    expect(ledger.body.data.map((e: { type: string }) => e.type)).toEqual(['trial_granted', 'adjustment']);
    expect(ledger.body.data[1]).toMatchObject({
      actor: 'operator:lin',
      reason: 'outage on 25 Nov',
      amount: { amount: { amount: 1250 } },
      balance_after: { trial_gpu_seconds: 300, amount: { amount: 1250 } },
      description: expect.stringContaining('¥12.50'),
    });
  });

  it('suspends: keys get 403 at once, the running and queued jobs are cancelled and settled; reactivation restores access only', async () => {
    const running = await ada.api.post('/v1/jobs', { image: 'a/b:1', command: ['sleep', '60'], gpu_count: 1, max_runtime_seconds: 120 });
    expect(running.status).toBe(201);
    await eventually(async () => (await ada.api.get(`/v1/jobs/${running.body.id}`)).body.status === 'running', 30_000, 'the job running');
    const suspended = await admin.post(`/v1/admin/accounts/${ada.accountId}/suspend`, { reason: 'card fraud' }, as('lin'));
    expect(suspended.status).toBe(200);
    expect(suspended.body).toMatchObject({ status: 'suspended', suspension: { operator: 'lin', reason: 'card fraud' } });
    const refused = await ada.api.get('/v1/account');
    expect({ status: refused.status, type: refused.body.type }).toEqual({ status: 403, type: 'account_suspended' });
    expect((await ada.api.post('/v1/jobs', { image: 'a/b:1', command: ['true'], gpu_count: 1 })).status).toBe(403);

    const job = await eventually(async () => {
      const res = await admin.get(`/v1/admin/jobs?account_id=${ada.accountId}`);
      return res.body.data?.[0]?.status === 'cancelled' && res.body.data[0];
    }, 60_000, 'the running job cancelled');
    expect(job).toMatchObject({ id: running.body.id, account_id: ada.accountId });
    const detail = await eventually(async () => {
      const res = await admin.get(`/v1/admin/accounts/${ada.accountId}`);
      return res.body.held?.gpu_seconds === 0 && res.body;
    }, 15_000, 'the hold settled');
    expect(detail.held).toEqual({ gpu_seconds: 0, amount: { amount: 0, currency: 'CNY' } });
    const types = (await admin.get(`/v1/admin/accounts/${ada.accountId}/ledger`)).body.data.map((e: { type: string }) => e.type);
    expect(types).toEqual(['trial_granted', 'adjustment', 'hold', 'suspended', 'charge', 'release']);

    const reactivated = await admin.post(`/v1/admin/accounts/${ada.accountId}/reactivate`, { reason: 'cleared' }, as('wang'));
    expect(reactivated.body).toMatchObject({ status: 'open', suspension: null });
    expect((await ada.api.get('/v1/account')).status).toBe(200);
    expect((await ada.api.get(`/v1/jobs/${running.body.id}`)).body.status).toBe('cancelled');
    const everyones = await eventually(async () => {
      const res = await admin.get('/v1/admin/jobs?status=cancelled');
      return res.body.data?.length === 1 && res.body;
    }, 15_000, 'the job in the list of all jobs');
    expect(everyones.data[0].id).toBe(running.body.id);
  }, 120_000);
});

describe('vouchers', () => {
  it('lists and shows vouchers with their redemptions, and disabling stops redemptions', async () => {
    const created = await admin.post('/v1/admin/vouchers', { amount: { amount: 500, currency: 'CNY' }, max_redemptions: 3, recurrence: 'monthly' }, as('lin'));
    expect(created.status).toBe(201);
    const bob = await signUp(stack.url, 'bobby@example.com');
    expect((await bob.api.post('/v1/vouchers/redeem', { code: created.body.code })).status).toBe(200);
    const listed = await eventually(async () => {
      const res = await admin.get('/v1/admin/vouchers');
      return res.body.data?.find((v: { id: string; redemptions: number }) => v.id === created.body.id && v.redemptions === 1);
    }, 15_000, 'the voucher listed with its redemption');
    expect(listed).toMatchObject({ status: 'active', max_redemptions: 3, recurrence: 'monthly', disabled: null });
    expect(JSON.stringify(listed)).not.toContain(created.body.code);

    const disabled = await admin.post(`/v1/admin/vouchers/${created.body.id}/disable`, { reason: 'code leaked' }, as('lin'));
    expect(disabled.body).toMatchObject({ status: 'disabled', redemptions: 1, disabled: { operator: 'lin', reason: 'code leaked' } });
    const late = await ada.api.post('/v1/vouchers/redeem', { code: created.body.code });
    expect({ status: late.status, type: late.body.type }).toEqual({ status: 404, type: 'not_found' });
    expect((await admin.get(`/v1/admin/vouchers/${created.body.id}`)).body.status).toBe('disabled');
    // What was granted stays.
    expect((await bob.api.get('/v1/account')).body.credits).toHaveLength(1);
    expect((await admin.get('/v1/admin/vouchers/vch_01aaaaaaaaaaaaaaaaaaaaaaaa')).status).toBe(404);
  });
});

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signUp, startTestStack, type TestStack } from '../support/local-stack';
import { runSx } from '../support/sx-process';

let stack: TestStack;
let home: string;
beforeAll(async () => {
  stack = await startTestStack();
  home = await mkdtemp(join(tmpdir(), 'sx-cli-admin-'));
}, 60_000);
afterAll(async () => {
  await stack?.drop();
  if (home) await rm(home, { recursive: true, force: true });
}, 60_000);

const envFor = (extra: Record<string, string | undefined> = {}) => ({ SX_API_URL: stack.url, XDG_CONFIG_HOME: home, HOME: home, SX_API_KEY: undefined, SX_ADMIN_KEY: stack.adminKey, ...extra });

describe('sx admin', () => {
  it("finds an account, credits it, reads its statement, suspends and reactivates it, and manages vouchers, naming the operator", async () => {
    // Given a customer who redeemed a voucher an operator created
    const created = await runSx(['admin', 'vouchers', 'create', '--amount', '100', '--max-redemptions', '2', '--json'], envFor());
    expect(created.code, created.stderr).toBe(0);
    const voucher = JSON.parse(created.stdout) as { id: string; code: string };
    const customer = await signUp(stack.url, 'cli-admin-ada@example.com');
    expect((await customer.api.post('/v1/vouchers/redeem', { code: voucher.code })).status).toBe(200);

    // When the operator finds the account and makes it right
    const found = await runSx(['admin', 'accounts', 'ls', '--email', 'CLI-ADMIN-ada', '--json'], envFor());
    const credited = await runSx(['admin', 'accounts', 'credit', customer.accountId, '--amount', '12.50', '--reason', 'GPU outage on 25 Nov', '--operator', 'lin'], envFor());
    const statement = await runSx(['admin', 'accounts', 'statement', customer.accountId], envFor());
    const statementJson = await runSx(['admin', 'accounts', 'statement', customer.accountId, '--json'], envFor());
    const suspended = await runSx(['admin', 'accounts', 'suspend', customer.accountId, '--reason', 'card fraud'], envFor({ SX_OPERATOR: 'wang' }));
    const refused = await customer.api.get('/v1/account');
    const reactivated = await runSx(['admin', 'accounts', 'reactivate', customer.accountId, '--reason', 'cleared'], envFor({ SX_OPERATOR: 'wang' }));
    const disabled = await runSx(['admin', 'vouchers', 'disable', voucher.id, '--reason', 'leaked', '--operator', 'lin', '--json'], envFor());
    const listed = await runSx(['admin', 'vouchers', 'ls'], envFor());
    const jobs = await runSx(['admin', 'jobs', '--account', customer.accountId, '--json'], envFor());

    // Then each step did what it says, and the statement reads as one
    expect(JSON.parse(found.stdout).map((a: { id: string }) => a.id)).toEqual([customer.accountId]);
    expect({ code: credited.code, out: credited.stdout }).toEqual({ code: 0, out: expect.stringMatching(/¥12\.50 credited to acct_/) });
    expect(statement.stdout).toMatch(/date\s+what\s+amount\s+balance after\s+by/i);
    expect(statement.stdout).toContain('¥112.50'); // the voucher's ¥100 and the adjustment's ¥12.50
    const entries = JSON.parse(statementJson.stdout) as Array<{ type: string; actor: string; reason: string | null }>;
    expect(entries.map((e) => e.type)).toEqual(['trial_granted', 'credit', 'adjustment']);
    expect(entries.at(-1)).toMatchObject({ actor: 'operator:lin', reason: 'GPU outage on 25 Nov' });
    expect(suspended.stdout).toContain('is suspended');
    expect({ status: refused.status, type: refused.body.type }).toEqual({ status: 403, type: 'account_suspended' });
    expect(reactivated.stdout).toContain('is open');
    expect((await customer.api.get('/v1/account')).status).toBe(200);
    expect(JSON.parse(disabled.stdout)).toMatchObject({ id: voucher.id, status: 'disabled', disabled: { operator: 'lin', reason: 'leaked' } });
    expect(listed.stdout).toMatch(new RegExp(`${voucher.id}\\s+¥100\\.00\\s+1/2\\s+disabled`));
    expect(JSON.parse(jobs.stdout)).toEqual([]);
  }, 120_000);

  it('says in one line what is missing or wrong, and changes nothing', async () => {
    const customer = await signUp(stack.url, 'cli-admin-bob@example.com');
    const noKey = await runSx(['admin', 'accounts', 'ls'], envFor({ SX_ADMIN_KEY: undefined }));
    const noOperator = await runSx(['admin', 'accounts', 'credit', customer.accountId, '--amount', '5', '--reason', 'r'], envFor({ SX_OPERATOR: undefined }));
    const badAmount = await runSx(['admin', 'accounts', 'credit', customer.accountId, '--amount', '5.001', '--reason', 'r', '--operator', 'lin'], envFor());
    const customerKey = await runSx(['admin', 'accounts', 'ls'], envFor({ SX_ADMIN_KEY: customer.apiKey }));
    const statement = await runSx(['admin', 'accounts', 'statement', customer.accountId, '--json'], envFor());

    for (const [result, message] of [
      [noKey, /set SX_ADMIN_KEY/],
      [noOperator, /--operator NAME or SX_OPERATOR/],
      [badAmount, /--amount must be yuan with at most two decimals/],
      [customerKey, /unauthorized|401/i],
    ] as const) {
      expect(result.code, result.stderr).not.toBe(0);
      // One line says what is wrong (a refused key gets a second, dimmed line: which setting to check).
      const [first, ...rest] = result.stderr.trim().split('\n');
      expect(first).toMatch(message);
      expect(rest.every((l) => /SX_ADMIN_KEY/.test(l)), result.stderr).toBe(true);
    }
    expect((JSON.parse(statement.stdout) as Array<{ type: string }>).map((e) => e.type)).toEqual(['trial_granted']);
  }, 120_000);
});

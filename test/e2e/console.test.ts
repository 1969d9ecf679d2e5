/**
 * The web console in a real browser (Debian's Chromium through playwright-core) against the local
 * stack: sign up, run the example trainer from the form and watch it succeed with its log, redeem a
 * voucher, add a webhook endpoint and see its deliveries, manage API keys, switch language. Every
 * page is checked with axe-core (no serious or critical violations) and photographed in English and
 * Chinese into test-artifacts/console/.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SxClient } from '../../sdk/client';
import { ARTIFACTS, launchChromium, seriousViolations } from '../support/browser';
import { startTestStack, type TestStack } from '../support/local-stack';
import { Receiver } from '../support/webhook-receiver';

const TRAINER = fileURLToPath(new URL('../../examples/char-lm/train.mjs', import.meta.url));

let stack: TestStack;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const receiver = new Receiver();
/** Content-Security-Policy reports and page errors: any is a failure. */
const pageProblems: string[] = [];

beforeAll(async () => {
  [stack, browser] = await Promise.all([startTestStack(), launchChromium(), receiver.start()]).then(([s, b]) => [s, b] as const);
  context = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 860 }, timezoneId: 'Asia/Shanghai' });
  // Every Content-Security-Policy violation of a page (an inline script or style, eval, a foreign origin) is recorded.
  // (Browser code is written as strings here: the tests are typed for Node, without the DOM's globals.)
  await context.addInitScript(`document.addEventListener('securitypolicyviolation', (e) => {
    (window.cspViolations ??= []).push(e.violatedDirective + ' ' + e.blockedURI);
  });`);
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: stack.url });
  page = await context.newPage();
  // Below the test's own timeout, so a step that waits in vain names itself.
  page.setDefaultTimeout(20_000);
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy|Refused to/.test(m.text())) pageProblems.push(m.text());
  });
  page.on('pageerror', (e) => pageProblems.push(String(e)));
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await receiver.close();
  await stack?.drop();
});

async function check(name: string) {
  await page.waitForLoadState('networkidle');
  // Before axe runs: it is the test's script, not the page's.
  expect(await page.evaluate('window.cspViolations ?? []'), `CSP on ${name}`).toEqual([]);
  expect(await seriousViolations(page), `axe on ${name}`).toEqual([]);
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

const heading = (name: RegExp | string) => page.getByRole('heading', { level: 1, name });

describe('the web console', { timeout: 60_000 }, () => {
  let apiKey = '';

  it('serves its page with a strict Content-Security-Policy and signs up, showing the key once', async () => {
    const answer = await page.goto(stack.url);
    const csp = answer!.headers()['content-security-policy'];
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
    // No third-party origin: only the stack's own object store, where the browser sends file parts.
    expect(csp!.match(/https?:\/\/[^\s;]+/g)).toEqual([stack.objectsEndpoint]);
    await check('signin-en');

    await page.getByLabel('Email').fill('console@example.com');
    await page.getByRole('button', { name: 'Sign up' }).click();
    apiKey = (await page.getByTestId('secret').textContent())!;
    expect(apiKey).toMatch(/^sk_/);
    await page.getByRole('button', { name: /Copy/ }).click();
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe(apiKey);
    await check('signup-key-en');
    await page.getByRole('button', { name: /continue/ }).click();
    await heading('Jobs').waitFor();
    // The key is in this tab's sessionStorage only: not in the URL, not in a cookie, not in localStorage.
    expect(page.url()).not.toContain(apiKey);
    expect(await context.cookies()).toEqual([]);
    expect(await page.evaluate('JSON.stringify(localStorage)')).not.toContain('sk_');
    expect(await page.evaluate(`sessionStorage.getItem('sx.apiKey')`)).toBe(apiKey);
    await check('jobs-empty-en');
  });

  it('adds a webhook endpoint and shows its secret once', async () => {
    const endpoint = receiver.route();
    await page.getByRole('link', { name: 'Webhooks' }).click();
    await page.getByLabel('Endpoint URL').fill(endpoint.url);
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    expect(await page.getByTestId('secret').textContent()).toMatch(/^whsec_/);
  });

  it('redeems a voucher on the billing page and shows the credit', async () => {
    const admin = new SxClient({ baseUrl: stack.url, apiKey: stack.adminKey });
    const { code } = await admin.admin.vouchers.create({ amount: { amount: 5000, currency: 'CNY' }, max_redemptions: 1 });
    await page.getByRole('link', { name: 'Billing' }).click();
    await heading('Billing').waitFor();
    await page.getByLabel('Voucher code').fill('NOT-A-CODE');
    await page.getByRole('button', { name: 'Redeem' }).click();
    // An API error is one sentence, never its JSON.
    const error = page.getByRole('alert');
    await expect.poll(() => error.textContent()).toMatch(/^Not found\./);
    expect(await error.textContent()).not.toContain('{');
    await page.getByLabel('Voucher code').fill(code!);
    await page.getByRole('button', { name: 'Redeem' }).click();
    await expect.poll(() => page.getByRole('status').textContent()).toBe('Added a credit of ¥50.00.');
    await expect.poll(() => page.getByTestId('available').textContent()).toBe('¥50.00');
    await check('billing-en');
  });

  it('uploads a file, resumes an interrupted upload, shows the storage used and deletes a file', async () => {
    const bytes = Buffer.from('line one\nline two\n'.repeat(1000));
    await page.getByRole('link', { name: 'Files' }).click();
    await heading('Files').waitFor();
    await page.getByLabel('File', { exact: true }).setInputFiles({ name: 'train.txt', mimeType: 'text/plain', buffer: bytes });
    await page.getByRole('button', { name: 'Upload' }).click();
    await expect.poll(() => page.getByRole('status').filter({ hasText: 'Uploaded' }).textContent()).toBe('Uploaded train.txt.');
    const row = page.locator('tr', { hasText: 'train.txt' });
    await expect.poll(() => row.textContent()).toContain('Ready');
    expect(await row.textContent()).toContain('17.6 kB');
    await expect.poll(() => page.getByTestId('storage').textContent()).toMatch(/^17\.6 kB of [\d.]+ GB$/);

    // An upload that stopped before its parts were sent: the page resumes it from the same file.
    const client = new SxClient({ baseUrl: stack.url, apiKey });
    const stopped = await client.files.create({ filename: 'resumed.txt', size: bytes.length });
    await page.reload();
    const stoppedRow = page.locator(`tr[data-file="${stopped.id}"]`);
    await expect.poll(() => stoppedRow.textContent()).toContain('Uploading');
    await check('files-en');
    await stoppedRow.getByRole('button', { name: 'Resume upload' }).click();
    await page.getByLabel('File', { exact: true }).setInputFiles({ name: 'resumed.txt', mimeType: 'text/plain', buffer: bytes });
    await page.getByRole('button', { name: 'Resume upload' }).first().click();
    await expect.poll(() => stoppedRow.textContent()).toContain('Ready');
    expect((await client.files.get(stopped.id)).status).toBe('ready');

    page.once('dialog', (d) => void d.accept());
    await stoppedRow.getByRole('button', { name: 'Delete' }).click();
    await expect.poll(() => stoppedRow.count()).toBe(0);
  });

  it('runs the example trainer from the form, with its cost shown first, and follows it to success', async () => {
    await page.getByRole('link', { name: 'New job' }).first().click();
    await heading('New job').waitFor();
    await page.getByLabel('Name (optional)').fill('char-lm <b>sonnets</b>');
    await page.getByLabel('Command').fill(['node', TRAINER, '--steps', '200', '--checkpoint-every', '100', '--log-every', '20'].join('\n'));
    await page.getByLabel('Maximum runtime (minutes)').fill('10');
    await page.getByLabel('Environment variables').fill('GREETING=<script>alert(1)</script>');
    const estimate = page.getByTestId('estimate');
    // 1 GPU for 600 s: the trial's 300 GPU-seconds free, 300 at ¥11.63 per GPU-hour = ¥0.97 (rounded up).
    await expect.poll(() => estimate.textContent()).toContain('At most ¥0.97 if it runs the whole 10 min (600 GPU-seconds).');
    expect(await estimate.textContent()).toContain('Your trial pays the first 300 A100 GPU-seconds free.');
    await check('new-job-en');
    await page.getByRole('button', { name: 'Start job' }).click();

    await page.waitForURL(/#\/jobs\/job_/);
    const status = page.locator('.page-head .badge').first();
    await expect.poll(() => status.textContent(), { timeout: 90_000, interval: 500 }).toBe('Succeeded');
    const log = page.getByTestId('log');
    await expect.poll(() => log.textContent()).toMatch(/\{"step":200,"loss":[0-9.]+\}[\s\S]*done: 200 steps/);
    // A name that looks like markup is text on the page, never an element.
    await expect.poll(() => heading(/char-lm <b>sonnets<\/b>/).count()).toBe(1);
    expect(await page.locator('h1 b').count()).toBe(0);
    const timeline = await page.locator('.timeline li').allTextContents();
    expect(timeline.map((t) => t.replace(/^.* /, ''))).toEqual(['Queued', 'Starting', 'Running', 'Succeeded']);
    await expect.poll(() => page.getByTestId('gpu-seconds').textContent()).toMatch(/^\d+ GPU-seconds$/);
    // Its outputs, downloaded from their signed links.
    const outputs = page.getByTestId('outputs');
    await expect.poll(() => outputs.textContent(), { timeout: 30_000 }).toContain('model.json');
    const [download] = await Promise.all([page.waitForEvent('download'), outputs.getByRole('link', { name: 'model.json' }).click()]);
    const model = JSON.parse(await readFile((await download.path())!, 'utf8'));
    expect(model).toMatchObject({ kind: 'char-mlp', steps: 200 });
    await expect.poll(() => page.getByTestId('checkpoints').textContent()).toContain('ckpt-00000100.json');
    await check('job-en');

    await page.getByRole('link', { name: 'Jobs' }).first().click();
    await expect.poll(() => page.locator('tbody tr').first().textContent()).toContain('Succeeded');
    await check('jobs-en');
  });

  it('shows the endpoint’s deliveries', async () => {
    await page.getByRole('link', { name: 'Webhooks' }).click();
    await page.getByRole('button', { name: 'Show deliveries' }).click();
    const deliveries = page.getByTestId('deliveries');
    await expect.poll(() => deliveries.textContent(), { timeout: 30_000 }).toContain('job.succeeded');
    expect(await deliveries.textContent()).toContain('credit.added');
    await check('webhooks-en');
  });

  it('creates and revokes an API key', async () => {
    await page.getByRole('link', { name: 'API keys' }).click();
    await page.getByLabel('Name (optional)').fill('ci');
    await page.getByRole('button', { name: 'Create key' }).click();
    const created = (await page.getByTestId('secret').textContent())!;
    expect(created).toMatch(/^sk_/);
    await expect.poll(() => page.locator('tbody tr').count()).toBe(2);
    await check('keys-en');
    page.once('dialog', (d) => void d.accept());
    await page.locator('tr', { hasText: 'ci' }).getByRole('button', { name: 'Revoke' }).click();
    await expect.poll(() => page.locator('tbody tr').count()).toBe(1);
    const revoked = await new SxClient({ baseUrl: stack.url, apiKey: created, maxRetries: 0 }).account().catch((e: { status: number }) => e.status);
    expect(revoked).toBe(401);
  });

  it('switches to Chinese, with numbers, money and times through Intl', async () => {
    await page.getByRole('button', { name: '中文' }).click();
    expect(await page.evaluate('document.documentElement.lang')).toBe('zh-CN');
    await page.getByRole('link', { name: '费用' }).click();
    await heading('费用').waitFor();
    await expect.poll(() => page.getByTestId('available').textContent()).toBe('¥50.00');
    await check('billing-zh');
    for (const [link, name] of [['任务', 'jobs-zh'], ['新建任务', 'new-job-zh'], ['文件', 'files-zh'], ['Webhooks', 'webhooks-zh'], ['API 密钥', 'keys-zh']] as const) {
      await page.getByRole('navigation').getByRole('link', { name: link, exact: true }).click();
      await check(name);
    }
    await page.getByRole('navigation').getByRole('link', { name: '任务', exact: true }).click();
    await page.locator('tbody tr a').first().click();
    await expect.poll(() => page.locator('.page-head .badge').first().textContent()).toBe('成功');
    await check('job-zh');
    // The choice outlives a reload; the session too (same tab).
    await page.reload();
    await heading(/任务/).waitFor();
    await page.getByRole('button', { name: '退出' }).click();
    await heading('登录或注册').waitFor();
    expect(await page.evaluate(`sessionStorage.getItem('sx.apiKey')`)).toBeNull();
    await check('signin-zh');
  });

  it('follows a Chinese browser at first visit and met no CSP violation or page error', async () => {
    const zhContext = await browser.newContext({ locale: 'zh-CN' });
    const zhPage = await zhContext.newPage();
    await zhPage.goto(stack.url);
    await zhPage.getByRole('heading', { level: 1, name: '登录或注册' }).waitFor();
    await zhContext.close();
    expect(pageProblems).toEqual([]);
  });
});

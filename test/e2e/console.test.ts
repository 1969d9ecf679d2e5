/**
 * The web console in a real browser (Debian's Chromium through playwright-core) against the local
 * stack: sign up, upload an input, run the example trainer from the form (another input uploaded on
 * the spot) and watch it succeed with its log and loss chart, download its output, cancel a job,
 * redeem a voucher, add webhook endpoints and see their deliveries (retry, rotate the secret, enable
 * a disabled one), manage API keys, switch language. Every page is checked with axe-core (no serious
 * or critical violations) and photographed in English and Chinese into test-artifacts/console/.
 */
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SxClient } from '../../sdk/client';
import { ARTIFACTS, launchChromium, seriousViolations } from '../support/browser';
import { startTestStack, type TestStack } from '../support/local-stack';
import { Receiver } from '../support/webhook-receiver';

const TRAINER = fileURLToPath(new URL('../../examples/char-lm/train.mjs', import.meta.url));
const SONNETS = fileURLToPath(new URL('../../examples/char-lm/sonnets.txt', import.meta.url));

let stack: TestStack;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const receiver = new Receiver();
/** Content-Security-Policy reports and page errors: any is a failure. */
const pageProblems: string[] = [];

beforeAll(async () => {
  // This run's screenshots only: the last test checks that every page was photographed in both languages.
  await rm(ARTIFACTS, { recursive: true, force: true });
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

async function check(name: string, on: Page = page) {
  await on.waitForLoadState('networkidle');
  // Before axe runs: it is the test's script, not the page's.
  expect(await on.evaluate('window.cspViolations ?? []'), `CSP on ${name}`).toEqual([]);
  expect(await seriousViolations(on), `axe on ${name}`).toEqual([]);
  await on.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/** How many pixels of a canvas under `selector` are the charts' line colour (#2563eb): a drawn series, not an empty frame. */
const seriesPixels = (selector: string) =>
  page.evaluate<number>(`(() => {
    let n = 0;
    for (const canvas of document.querySelectorAll(${JSON.stringify(selector)} + ' canvas')) {
      const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
      for (let i = 0; i < data.length; i += 4) if (Math.abs(data[i] - 37) < 12 && Math.abs(data[i + 1] - 99) < 12 && Math.abs(data[i + 2] - 235) < 12 && data[i + 3] > 200) n++;
    }
    return n;
  })()`);

/** The metric points a log's JSON lines hold (what the service reads from them), by name. */
function pointsInLog(log: string): Record<string, Array<{ step: number; value: number }>> {
  const out: Record<string, Array<{ step: number; value: number }>> = {};
  for (const line of log.split('\n')) {
    if (!line.startsWith('{')) continue;
    const { step, ...fields } = JSON.parse(line) as Record<string, number>;
    for (const [name, value] of Object.entries(fields)) (out[name] ??= []).push({ step: step!, value });
  }
  return out;
}

/**
 * Waits for a condition on the page, as long as it takes on a loaded machine (vitest's default is 1 s):
 * the steps never depend on how fast the stack or the browser is, only on what they end up showing.
 */
const poll = <T,>(fn: () => T | Promise<T>, options: { timeout?: number; interval?: number } = {}) => expect.poll(fn, { timeout: 20_000, interval: 100, ...options });

const heading = (name: RegExp | string) => page.getByRole('heading', { level: 1, name });

describe('the web console', { timeout: 120_000 }, () => {
  let apiKey = '';
  let trainerJob = '';

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

  type Route = ReturnType<Receiver['route']>;
  let endpoint: Route;
  // Answers 410 Gone: the service disables it at its first delivery.
  let gone: Route;
  let firstSecret = '';

  it('adds webhook endpoints and shows each secret once', async () => {
    // Routes once the receiver listens: their URLs carry its port.
    endpoint = receiver.route();
    gone = receiver.route(() => ({ status: 410 }));
    await page.getByRole('link', { name: 'Webhooks' }).click();
    await page.getByLabel('Endpoint URL').fill(endpoint.url);
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    await poll(() => page.getByTestId('secret').textContent()).toMatch(/^whsec_/);
    firstSecret = (await page.getByTestId('secret').textContent())!;
    await page.getByLabel('Endpoint URL').fill(gone.url);
    await page.getByLabel('Event types (empty: all)').fill('credit.added');
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    await poll(() => page.getByRole('status').filter({ hasText: gone.url }).count()).toBe(1);
    expect(await page.getByTestId('secret').textContent()).not.toBe(firstSecret);
    await poll(() => page.locator('section[data-endpoint]').count()).toBe(2);
    expect(await page.getByRole('region', { name: gone.url }).textContent()).toContain('credit.added');
  });

  it('redeems a voucher on the billing page and shows the credit', async () => {
    const admin = new SxClient({ baseUrl: stack.url, apiKey: stack.adminKey });
    // Its credit expires with the voucher: the credits table shows when.
    const expiresAt = new Date(Date.now() + 30 * 86_400_000).toISOString().replace(/\.\d+Z$/, 'Z');
    const { code } = await admin.admin.vouchers.create({ amount: { amount: 5000, currency: 'CNY' }, max_redemptions: 1, expires_at: expiresAt });
    await page.getByRole('link', { name: 'Billing' }).click();
    await heading('Billing').waitFor();
    await page.getByLabel('Voucher code').fill('NOT-A-CODE');
    await page.getByRole('button', { name: 'Redeem' }).click();
    // An API error is one sentence, never its JSON.
    const error = page.getByRole('alert');
    await poll(() => error.textContent()).toMatch(/^Not found\./);
    expect(await error.textContent()).not.toContain('{');
    await page.getByLabel('Voucher code').fill(code!);
    await page.getByRole('button', { name: 'Redeem' }).click();
    await poll(() => page.getByRole('status').textContent()).toBe('Added a credit of ¥50.00.');
    await poll(() => page.getByTestId('available').textContent()).toBe('¥50.00');
    const credit = page.getByTestId('credits').locator('tbody tr');
    await poll(() => credit.count()).toBe(1);
    // Granted, remaining, held, expiry (through the browser's Intl, in the page's time zone).
    const expiry = await page.evaluate<string>(`new Intl.DateTimeFormat('en-US', { dateStyle: 'medium', timeStyle: 'medium' }).format(new Date(${JSON.stringify(expiresAt)}))`);
    expect(await credit.locator('td').allTextContents()).toEqual(['¥50.00', '¥50.00', '¥0.00', expiry, expect.any(String)]);
    await check('billing-en');
  });

  it('uploads a file, resumes an interrupted upload, shows the storage used and deletes a file', async () => {
    const bytes = Buffer.from('line one\nline two\n'.repeat(1000));
    await page.getByRole('link', { name: 'Files' }).click();
    await heading('Files').waitFor();
    await page.getByLabel('File', { exact: true }).setInputFiles({ name: 'train.txt', mimeType: 'text/plain', buffer: bytes });
    // The part's PUT to the object store waits until the test has seen the progress bar: no race with a fast upload.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const toObjects = (url: URL) => url.href.startsWith(stack.objectsEndpoint);
    await page.route(toObjects, async (route) => {
      if (route.request().method() === 'PUT') await held;
      await route.continue();
    });
    await page.getByRole('button', { name: 'Upload' }).click();
    const progress = page.getByRole('progressbar', { name: 'train.txt' });
    await poll(() => progress.count()).toBe(1);
    expect(await progress.getAttribute('max')).toBe(String(bytes.length));
    expect(await page.getByRole('status').filter({ hasText: 'Uploading' }).textContent()).toBe('Uploading train.txt: 0%');
    release();
    await page.unroute(toObjects);
    await poll(() => page.getByRole('status').filter({ hasText: 'Uploaded' }).textContent()).toBe('Uploaded train.txt.');
    const row = page.locator('tr', { hasText: 'train.txt' });
    await poll(() => row.textContent()).toContain('Ready');
    expect(await row.textContent()).toContain('17.6 kB');
    await poll(() => page.getByTestId('storage').textContent()).toMatch(/^17\.6 kB of [\d.]+ GB$/);

    // An upload that stopped before its parts were sent: the page resumes it from the same file.
    const client = new SxClient({ baseUrl: stack.url, apiKey });
    const stopped = await client.files.create({ filename: 'resumed.txt', size: bytes.length });
    await page.reload();
    const stoppedRow = page.locator(`tr[data-file="${stopped.id}"]`);
    await poll(() => stoppedRow.textContent()).toContain('Uploading');
    await check('files-en');
    await stoppedRow.getByRole('button', { name: 'Resume upload' }).click();
    await page.getByLabel('File', { exact: true }).setInputFiles({ name: 'resumed.txt', mimeType: 'text/plain', buffer: bytes });
    await page.getByRole('button', { name: 'Resume upload' }).first().click();
    await poll(() => stoppedRow.textContent()).toContain('Ready');
    expect((await client.files.get(stopped.id)).status).toBe('ready');

    page.once('dialog', (d) => void d.accept());
    await stoppedRow.getByRole('button', { name: 'Delete' }).click();
    await poll(() => stoppedRow.count()).toBe(0);
  });

  it('runs the example trainer from the form, with an input uploaded on the spot and its cost shown first, and follows it to success with its loss chart', { timeout: 180_000 }, async () => {
    await page.getByRole('link', { name: 'New job' }).first().click();
    await heading('New job').waitFor();
    await page.getByLabel('Name (optional)').fill('char-lm <b>sonnets</b>');
    await page.getByLabel('Command').fill(['node', TRAINER, '--steps', '200', '--checkpoint-every', '100', '--log-every', '20'].join('\n'));
    await page.getByLabel('Maximum runtime (minutes)').fill('10');
    await page.getByLabel('Environment variables').fill('GREETING=<script>alert(1)</script>');
    // A regex RE2 refuses: the API's 400 is one sentence naming it, never JSON.
    await page.getByLabel('Metric definitions').fill('loss=(a)\\1=(\\d+)');
    await page.getByRole('button', { name: 'Start job' }).click();
    const refused = page.getByRole('alert');
    await poll(() => refused.textContent()).toMatch(/^Please check the form\. .*metric_definitions/);
    expect(await refused.textContent()).not.toMatch(/[{}]/);
    // Without definitions the service reads the trainer's JSON lines: its training and held-out loss, by step.
    await page.getByLabel('Metric definitions').fill('');
    // Inputs: the file uploaded before, picked from the list…
    await page.locator('select[name="input-file"]').selectOption({ label: 'train.txt' });
    expect(await page.getByLabel('Input name').inputValue()).toBe('train');
    await page.getByRole('button', { name: 'Add input' }).click();
    // …and one uploaded from the form: `data`, which the trainer trains on.
    const text = (await readFile(SONNETS, 'utf8')).slice(0, 30_000);
    await page.getByLabel('Or upload a file now').setInputFiles({ name: 'data.txt', mimeType: 'text/plain', buffer: Buffer.from(text) });
    const inputs = page.getByTestId('inputs');
    await poll(() => inputs.textContent()).toContain('data ← data.txt');
    expect(await inputs.textContent()).toContain('train ← train.txt');
    const estimate = page.getByTestId('estimate');
    // 1 GPU for 600 s: the trial's 300 GPU-seconds free, 300 at ¥11.63 per GPU-hour = ¥0.97 (rounded up).
    await poll(() => estimate.textContent()).toContain('At most ¥0.97 if it runs the whole 10 min (600 GPU-seconds).');
    expect(await estimate.textContent()).toContain('Your trial pays the first 300 A100 GPU-seconds free.');
    expect(await estimate.textContent()).toMatch(/Your balance covers about 10 min of this job\./);
    await check('new-job-en');
    await page.getByRole('button', { name: 'Start job' }).click();

    await page.waitForURL(/#\/jobs\/job_/);
    trainerJob = page.url().replace(/^.*#\/jobs\//, '');
    const status = page.locator('.page-head .badge').first();
    await poll(() => status.textContent(), { timeout: 90_000, interval: 500 }).toBe('Succeeded');
    const log = page.getByTestId('log');
    await poll(() => log.textContent()).toMatch(/\{"step":200,"loss":[0-9.]+\}[\s\S]*done: 200 steps/);
    // It trained on the file uploaded from the form.
    expect(await log.textContent()).toContain(`starting from scratch: ${[...text].length} characters`);
    // A name that looks like markup is text on the page, never an element.
    await poll(() => heading(/char-lm <b>sonnets<\/b>/).count()).toBe(1);
    expect(await page.locator('h1 b').count()).toBe(0);
    const timeline = await page.locator('.timeline li').allTextContents();
    expect(timeline.map((t) => t.replace(/^.* /, ''))).toEqual(['Queued', 'Starting', 'Running', 'Succeeded']);
    await poll(() => page.getByTestId('gpu-seconds').textContent()).toMatch(/^\d+ GPU-seconds$/);
    await poll(() => page.locator('dd', { hasText: 'train ← file_' }).textContent()).toContain('data ← file_');

    // The loss chart: one uPlot canvas per metric with its series drawn, and the last value of the log in words.
    const expected = pointsInLog((await log.textContent())!);
    expect(Object.keys(expected).sort()).toEqual(['loss', 'val_loss']);
    const number = new Intl.NumberFormat('en-US');
    for (const [name, points] of Object.entries(expected)) {
      const last = points[points.length - 1]!;
      const figure = page.locator(`figure[data-metric="${name}"]`);
      await poll(() => figure.locator('figcaption').textContent(), { timeout: 30_000 })
        .toBe(`${name}${name}: ${number.format(last.value)} at step ${last.step} (latest; points: ${points.length})`);
      await poll(() => figure.locator('canvas').count()).toBe(1);
      expect(await figure.getByRole('img').getAttribute('aria-label')).toBe(`${name}: ${number.format(last.value)} at step ${last.step} (latest; points: ${points.length})`);
    }
    await poll(() => seriesPixels('figure[data-metric="loss"]')).toBeGreaterThan(100);

    // Its outputs, downloaded from their signed links.
    const outputs = page.getByTestId('outputs');
    await poll(() => outputs.textContent(), { timeout: 30_000 }).toContain('model.json');
    const [download] = await Promise.all([page.waitForEvent('download'), outputs.getByRole('link', { name: 'model.json' }).click()]);
    const model = JSON.parse(await readFile((await download.path())!, 'utf8'));
    expect(model).toMatchObject({ kind: 'char-mlp', steps: 200 });
    await poll(() => page.getByTestId('checkpoints').textContent()).toContain('ckpt-00000100.json');
    // Once the job has ended and its metrics are settled, the charts stay.
    await poll(() => page.locator('figure[data-metric] canvas').count()).toBe(2);
    await check('job-en');
    expect(await page.locator('figure[data-metric] canvas').count()).toBe(2);

    await page.getByRole('link', { name: 'Jobs' }).first().click();
    await poll(() => page.locator('tbody tr').first().textContent()).toContain('Succeeded');
    await check('jobs-en');
  });

  it('cancels a running job from its page, charting its metric by time meanwhile', { timeout: 120_000 }, async () => {
    await page.getByRole('link', { name: 'New job' }).first().click();
    await page.getByLabel('Name (optional)').fill('forever');
    // Prints `tick N` every 200 ms until stopped; a metric definition reads it (no step: charted by time).
    await page.getByLabel('Command').fill(['node', '-e', 'let n = 0; setInterval(() => console.log(`tick ${++n}`), 200)'].join('\n'));
    await page.getByLabel('Metric definitions').fill('ticks=^tick (\\d+)$');
    await page.getByLabel('Maximum runtime (minutes)').fill('5');
    await page.getByRole('button', { name: 'Start job' }).click();
    await page.waitForURL(/#\/jobs\/job_/);
    const forever = page.url().replace(/^.*#\/jobs\//, '');
    // The jobs list follows the job's status as it starts, then leads back to it.
    await page.getByRole('link', { name: 'Jobs' }).first().click();
    const listed = page.locator(`tr[data-job="${forever}"]`);
    await poll(() => listed.locator('.badge').textContent(), { timeout: 60_000 }).toBe('Running');
    await listed.getByRole('link').first().click();
    const status = page.locator('.page-head .badge').first();
    await poll(() => status.textContent(), { timeout: 60_000 }).toBe('Running');
    const ticks = page.locator('figure[data-metric="ticks"]');
    await poll(() => ticks.locator('figcaption').textContent(), { timeout: 30_000 }).toMatch(/^ticksticks: [\d,]+ \(latest; points: [\d,]+\)$/);
    await poll(() => ticks.locator('canvas').count()).toBe(1);
    // While it runs: GPU-seconds and cost so far, and the time its hold still pays for (300 s held for 1 GPU × 5 min).
    const fact = (term: string) => page.locator('dl.facts dt', { hasText: new RegExp(`^${term}$`) }).locator('xpath=following-sibling::dd[1]');
    expect(await fact('GPU-seconds').textContent()).toMatch(/^[\d,]+ GPU-seconds$/);
    expect(await fact('Cost').textContent()).toMatch(/^¥\d+\.\d\d$/);
    await poll(() => fact('Held time left').textContent()).toMatch(/^(\d+ s|[\d.]+ min)$/);
    // The log follows its end as it grows past the box; unfollowed, it stays where the reader put it.
    const log = page.getByTestId('log');
    const atEnd = `(() => { const pre = document.querySelector('[data-testid="log"]'); return pre.scrollHeight > pre.clientHeight && pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 2; })()`;
    await poll(() => page.evaluate<boolean>(atEnd), { timeout: 30_000 }).toBe(true);
    await page.getByLabel('Follow the log').uncheck();
    // Effects of a render from before the switch (Preact runs them after the next frame) are done before the reader scrolls up.
    await page.evaluate('new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(done))))');
    const pre = `document.querySelector('[data-testid="log"]')`;
    await page.evaluate(`${pre}.scrollTop = 0`);
    const length = (await log.textContent())!.length;
    await poll(() => log.textContent().then((text) => text!.length), { timeout: 30_000 }).toBeGreaterThan(length);
    expect(await page.evaluate(`${pre}.scrollTop`)).toBe(0);
    await page.getByLabel('Follow the log').check();
    await poll(() => page.evaluate<boolean>(atEnd)).toBe(true);
    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: 'Cancel job' }).click();
    await poll(() => status.textContent(), { timeout: 60_000 }).toBe('Cancelled');
    expect(await page.locator('.timeline li').last().textContent()).toMatch(/Cancelled$/);
    expect(await page.getByRole('button', { name: 'Cancel job' }).count()).toBe(0);

    // The jobs list, newest first, and its status filter.
    await page.getByRole('link', { name: 'Jobs' }).first().click();
    await poll(() => page.locator('tbody tr').allTextContents()).toEqual([expect.stringMatching(/^forever.*Cancelled/), expect.stringMatching(/^char-lm.*Succeeded/)]);
    await page.getByLabel('Status').selectOption({ label: 'Succeeded' });
    await poll(() => page.locator('tbody tr').count()).toBe(1);
    await page.getByLabel('Status').selectOption({ label: 'All' });
    await poll(() => page.locator('tbody tr').count()).toBe(2);
  });

  it('shows the endpoints’ deliveries, retries one, rotates a secret and enables a disabled endpoint', { timeout: 90_000 }, async () => {
    await page.getByRole('link', { name: 'Webhooks' }).click();
    const card = page.getByRole('region', { name: endpoint.url });
    await card.getByRole('button', { name: 'Show deliveries' }).click();
    const deliveries = card.getByTestId('deliveries');
    await poll(() => deliveries.textContent(), { timeout: 30_000 }).toContain('job.succeeded');
    await poll(() => deliveries.textContent(), { timeout: 30_000 }).toContain('job.cancelled');
    expect(await deliveries.textContent()).toContain('credit.added');

    // Retry: the same delivery (same webhook-id) is sent again, and its attempts go to 2.
    const row = deliveries.locator('tr', { hasText: 'credit.added' });
    await poll(() => row.locator('td').nth(1).textContent(), { timeout: 30_000 }).toBe('Succeeded');
    const sent = () => endpoint.got().filter((r) => JSON.parse(r.body).type === 'credit.added');
    expect(sent()).toHaveLength(1);
    await row.getByRole('button', { name: 'Retry' }).click();
    await poll(() => card.getByRole('status').textContent()).toBe('The delivery will be sent again shortly.');
    await poll(() => row.locator('td').nth(3).textContent(), { timeout: 30_000 }).toBe('2');
    await poll(() => row.locator('td').nth(1).textContent(), { timeout: 30_000 }).toBe('Succeeded');
    expect(sent().map((r) => r.headers['webhook-id'])).toEqual([sent()[0]!.headers['webhook-id'], sent()[0]!.headers['webhook-id']]);
    await check('webhooks-en');

    // Rotate the secret: a new one, shown once.
    await card.getByRole('button', { name: 'Rotate secret' }).click();
    await poll(() => page.getByTestId('secret').textContent()).toMatch(/^whsec_/);
    expect(await page.getByTestId('secret').textContent()).not.toBe(firstSecret);

    // The endpoint that answered 410 was disabled; enabling it is one click.
    const goneCard = page.getByRole('region', { name: gone.url });
    await poll(() => goneCard.locator('.badge').first().textContent(), { timeout: 30_000 }).toBe('Disabled');
    expect(gone.got()).toHaveLength(1);
    await goneCard.getByRole('button', { name: 'Enable' }).click();
    await poll(() => goneCard.locator('.badge').first().textContent()).toBe('Enabled');
    expect(await goneCard.getByRole('button', { name: 'Enable' }).count()).toBe(0);
  });

  it('creates and revokes an API key', async () => {
    await page.getByRole('link', { name: 'API keys' }).click();
    await page.getByLabel('Name (optional)').fill('ci');
    await page.getByRole('button', { name: 'Create key' }).click();
    const created = (await page.getByTestId('secret').textContent())!;
    expect(created).toMatch(/^sk_/);
    await page.getByRole('button', { name: /Copy/ }).click();
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe(created);
    await poll(() => page.locator('tbody tr').count()).toBe(2);
    await check('keys-en');
    page.once('dialog', (d) => void d.accept());
    await page.locator('tr', { hasText: 'ci' }).getByRole('button', { name: 'Revoke' }).click();
    await poll(() => page.locator('tbody tr').count()).toBe(1);
    const revoked = await new SxClient({ baseUrl: stack.url, apiKey: created, maxRetries: 0 }).account().catch((e: { status: number }) => e.status);
    expect(revoked).toBe(401);
  });

  // Eight pages, each through axe: minutes on a loaded machine.
  it('switches to Chinese, with numbers, money and times through Intl', { timeout: 240_000 }, async () => {
    await page.getByRole('button', { name: '中文' }).click();
    expect(await page.evaluate('document.documentElement.lang')).toBe('zh-CN');
    await page.getByRole('link', { name: '费用' }).click();
    await heading('费用').waitFor();
    await poll(() => page.getByTestId('available').textContent()).not.toBe('');
    expect(await page.getByTestId('available').textContent()).toMatch(/^¥\d+\.\d\d$/);
    // GPU-seconds per day: today's bar drawn, the total in its text alternative.
    const chart = page.getByTestId('usage-chart');
    await poll(() => chart.locator('canvas').count()).toBe(1);
    expect(await chart.getByRole('img').getAttribute('aria-label')).toMatch(/^每日 GPU 秒：最近 30 天共 [1-9][\d,]* 秒$/);
    await poll(() => seriesPixels('[data-testid="usage-chart"]')).toBeGreaterThan(10);
    // Usage lines: the trainer's, paid by the trial, linked to its job.
    const line = page.getByTestId('usage').locator('tbody tr', { has: page.locator(`a[href="#/jobs/${trainerJob}"]`) });
    await poll(() => line.count()).toBeGreaterThan(0);
    expect(await line.first().locator('td').nth(1).textContent()).toBe('试用');
    expect(await line.first().locator('td').nth(2).textContent()).toMatch(/^[1-9][\d,]*$/);
    // The credit's expiry as a Chinese date.
    expect(await page.getByTestId('credits').locator('tbody td').nth(3).textContent()).toMatch(/^\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}:\d{2}$/);
    await check('billing-zh');
    for (const [link, name] of [['任务', 'jobs-zh'], ['新建任务', 'new-job-zh'], ['文件', 'files-zh'], ['Webhooks', 'webhooks-zh'], ['API 密钥', 'keys-zh']] as const) {
      await page.getByRole('navigation').getByRole('link', { name: link, exact: true }).click();
      await check(name);
    }
    await page.getByRole('navigation').getByRole('link', { name: '任务', exact: true }).click();
    await page.locator('tbody tr', { hasText: 'char-lm' }).getByRole('link').click();
    await poll(() => page.locator('.page-head .badge').first().textContent()).toBe('成功');
    // The chart's words in Chinese, its numbers through Intl.
    await poll(() => page.locator('figure[data-metric="loss"] figcaption').textContent()).toMatch(/^lossloss：第 200 步 [\d.]+（最新，共 11 个点）$/);
    await poll(() => page.locator('figure[data-metric="loss"] canvas').count()).toBe(1);
    // Times through Intl in Chinese (the context's time zone is Asia/Shanghai), the statuses in words.
    expect(await page.locator('.timeline li').first().textContent()).toMatch(/^\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}:\d{2} 排队中$/);
    await check('job-zh');
    // The choice outlives a reload; the session too (same tab).
    await page.reload();
    await heading(/任务/).waitFor();
    await page.getByRole('button', { name: '退出' }).click();
    await heading('登录或注册').waitFor();
    expect(await page.evaluate(`sessionStorage.getItem('sx.apiKey')`)).toBeNull();
    await check('signin-zh');
    // Sign in with a key: a wrong one is refused in one sentence, the right one opens the console.
    await page.getByLabel('API 密钥').fill('sk_live_not_a_key');
    await page.getByRole('button', { name: '登录', exact: true }).click();
    await poll(() => page.getByRole('alert').textContent()).toMatch(/^API 密钥无效，请重新登录。/);
    expect(await page.getByRole('alert').textContent()).not.toMatch(/[{}]/);
    expect(await page.evaluate(`sessionStorage.getItem('sx.apiKey')`)).toBeNull();
    await page.getByLabel('API 密钥').fill(apiKey);
    await page.getByRole('button', { name: '登录', exact: true }).click();
    await heading('任务').waitFor();
    expect(await page.evaluate(`sessionStorage.getItem('sx.apiKey')`)).toBe(apiKey);
    expect(page.url()).not.toContain(apiKey);
  });

  it('follows a Chinese browser at first visit and met no CSP violation or page error', async () => {
    const zhContext = await browser.newContext({ locale: 'zh-CN' });
    const zhPage = await zhContext.newPage();
    try {
      await zhPage.goto(stack.url);
      await zhPage.getByRole('heading', { level: 1, name: '登录或注册' }).waitFor();
      await zhPage.getByLabel('邮箱').fill('console-zh@example.com');
      await zhPage.getByRole('button', { name: '注册' }).click();
      await poll(() => zhPage.getByTestId('secret').textContent()).toMatch(/^sk_/);
      await check('signup-key-zh', zhPage);
    } finally {
      await zhContext.close();
    }
    expect(pageProblems).toEqual([]);
    // Every page, in both languages, is in the artifacts.
    const shots = await readdir(ARTIFACTS);
    for (const name of ['signin', 'signup-key', 'jobs', 'new-job', 'job', 'files', 'billing', 'webhooks', 'keys']) {
      expect(shots).toEqual(expect.arrayContaining([`${name}-en.png`, `${name}-zh.png`]));
    }
  });
});

/**
 * `npm run bench:console` (also the last part of `npm run bench`): the web console's first useful
 * paint on the local stack, beside a blank page in the same browser run.
 *
 * - Console: a fresh browser context (cold HTTP cache, as a first visit) with a signed-in tab opens
 *   `/#/jobs` of an account with 20 jobs; the figure is the time from the navigation's start to the
 *   first frame painted after the jobs table has its rows (a `requestAnimationFrame` after the rows
 *   appear, seen by a MutationObserver): the page's HTML, its JS and CSS, the SDK's first
 *   `GET /v1/jobs` and the render.
 * - Baseline: the same measure for a blank page (one paragraph, served over loopback HTTP by a
 *   bare Node server, no script), in a fresh context of the same browser: what any page costs here.
 *
 * Runs are interleaved (blank, console, blank, …) because these machines are shared and noisy; the
 * figures are medians. Also prints the initial JS + CSS gzipped (the budget is 150 KB). Debian's
 * `chromium` (or `CHROMIUM_PATH`). Record results in BENCHMARKS.md.
 */
import '../infra/local/quiet-sdk';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium, type Browser } from 'playwright-core';
import { ensureConsoleBuild } from '../console/build';
import { apiClient, eventually, startStackProcess } from '../infra/local/stack-process';
import { fmt, percentile } from './stats';

const RUNS = Number(process.env.SX_BENCH_RUNS ?? 15);
const JOBS = 20;
const BUDGET_KB = 150;

/**
 * Run in the page before its own scripts (through the DevTools protocol, so the page's CSP does
 * not apply): records in `window.__paints[name]` the ms since the navigation's start of the first
 * frame after `selector` matches, for each of `marks` (and in `name.dom` when it was inserted).
 */
const paintProbe = (marks: Record<string, string>) => `(() => {
  const paints = (window.__paints = {});
  const pending = new Map(Object.entries(${JSON.stringify(marks)}));
  const look = () => {
    for (const [name, selector] of pending) {
      if (!document.querySelector(selector)) continue;
      pending.delete(name);
      paints[name + '.dom'] = performance.now();
      requestAnimationFrame(() => { paints[name] = performance.now(); });
    }
    return pending.size === 0;
  };
  if (look()) return;
  new MutationObserver((_, observer) => { if (look()) observer.disconnect(); })
    .observe(document, { childList: true, subtree: true });
})();`;

interface Visit {
  /** ms from the navigation's start to the first frame after each mark's selector matched. */
  paints: Record<string, number>;
  /** ms of the page's first request whose URL matches each of `requests` (a regex; start to response end). */
  requests: Record<string, number>;
  /** ms since the navigation's start: the HTML received, and the last of the initial requests (not the API's) received. */
  htmlAt: number;
  assetsAt: number;
}

/** One cold visit in a fresh context. */
async function visit(browser: Browser, url: string, marks: Record<string, string>, options: { apiKey?: string; requests?: string[] } = {}): Promise<Visit> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, locale: 'en-US' });
  try {
    if (options.apiKey) await context.addInitScript(`sessionStorage.setItem('sx.apiKey', ${JSON.stringify(options.apiKey)});`);
    await context.addInitScript(paintProbe(marks));
    const page = await context.newPage();
    await page.goto(url);
    // Functions, not strings: a string would be eval'd in the page, which its CSP forbids.
    // (Serialized into the page: they may use only the page's own globals.)
    await page.waitForFunction(
      (names) => names.every((n) => typeof (globalThis as unknown as { __paints: Record<string, number> }).__paints[n] === 'number'),
      Object.keys(marks),
      { timeout: 30_000 },
    );
    return await page.evaluate((requests) => {
      const g = globalThis as unknown as { __paints: Record<string, number>; performance: { getEntriesByType(t: string): Array<{ name: string; startTime: number; responseEnd: number }> } };
      const entries = g.performance.getEntriesByType('resource');
      const htmlAt = g.performance.getEntriesByType('navigation')[0]!.responseEnd;
      const assetsAt = Math.max(htmlAt, ...entries.filter((e) => e.name.includes('/assets/')).map((e) => e.responseEnd));
      const found: Record<string, number> = {};
      for (const r of requests) {
        const entry = entries.find((e) => new RegExp(r).test(e.name));
        if (entry) found[r] = entry.responseEnd - entry.startTime;
      }
      return { paints: { ...g.__paints }, requests: found, htmlAt, assetsAt };
    }, options.requests ?? []);
  } finally {
    await context.close();
  }
}

async function main() {
  const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  const build = await ensureConsoleBuild();
  const sizes = await Promise.all(build.initial.map(async (f) => ({ f, raw: (await readFile(join(build.dir, f))).length, gz: gzipSync(await readFile(join(build.dir, f)), { level: 9 }).length })));
  const gz = sizes.reduce((n, s) => n + s.gz, 0);
  const raw = sizes.reduce((n, s) => n + s.raw, 0);

  const blank = createServer((_, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache' });
    res.end('<!doctype html><html lang="en"><head><meta charset="utf-8"><title>blank</title></head><body><p>blank</p></body></html>');
  });
  await new Promise<void>((resolve) => blank.listen(0, '127.0.0.1', resolve));
  const blankUrl = `http://127.0.0.1:${(blank.address() as AddressInfo).port}/`;
  const stack = await startStackProcess();
  let browser: Browser | undefined;
  try {
    const signup = await apiClient(stack.url).post('/v1/signup', { email: 'bench-console@example.com' });
    const apiKey = signup.body.api_key as string;
    const api = apiClient(stack.url, apiKey);
    // One at a time, each to its end: the trial holds 60 GPU-seconds per queued job and has 300.
    for (let i = 0; i < JOBS; i++) {
      const created = await api.post('/v1/jobs', { name: `bench ${i}`, image: 'bench/console:1', command: ['true'], gpu_count: 1, max_runtime_seconds: 60 });
      if (created.status !== 201) throw new Error(`POST /v1/jobs: ${created.status} ${JSON.stringify(created.body)}`);
      await eventually(async () => ['succeeded', 'failed', 'cancelled'].includes((await api.get(`/v1/jobs/${created.body.id}`)).body.status), 60_000, `job ${i} to end`);
    }
    browser = await chromium.launch({ executablePath, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
    console.log(
      `machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${fmt(totalmem() / 2 ** 30)} GiB, Node ${process.version}, Chromium ${browser.version()} (headless), load average ${loadavg().map((l) => fmt(l, 1)).join(' ')}`,
    );
    console.log(`initial JS + CSS: ${sizes.map((s) => `${s.f} ${fmt(s.gz / 1024, 1)} KB`).join(', ')}; total ${fmt(gz / 1024, 1)} KB gzipped (${fmt(raw / 1024, 1)} KB raw), budget ${BUDGET_KB} KB`);

    const consoleUrl = `${stack.url}/#/jobs`;
    const consoleMarks = { shell: 'header.top', rows: 'main tbody tr[data-job]' };
    const requests = ['/assets/main-\\w+\\.js$', '/v1/jobs'];
    const visitConsole = () => visit(browser!, consoleUrl, consoleMarks, { apiKey, requests });
    const visitBlank = () => visit(browser!, blankUrl, { text: 'p' });
    // Warm-up: the first visit of each pays for the browser's own start-up.
    await visitBlank();
    await visitConsole();
    const blanks: Visit[] = [];
    const consoles: Visit[] = [];
    for (let run = 0; run < RUNS; run++) {
      blanks.push(await visitBlank());
      consoles.push(await visitConsole());
    }
    const p50 = (s: number[]) => percentile(s, 50);
    const blankMs = blanks.map((v) => v.paints.text!);
    const rowsMs = consoles.map((v) => v.paints.rows!);
    const shellMs = consoles.map((v) => v.paints.shell!);
    const jsMs = consoles.map((v) => v.requests[requests[0]!] ?? Number.NaN);
    const shellDomMs = consoles.map((v) => v.paints['shell.dom']!);
    const rowsDomMs = consoles.map((v) => v.paints['rows.dom']!);
    const apiMs = consoles.map((v) => v.requests['/v1/jobs'] ?? Number.NaN);
    console.log(
      `first useful paint (jobs table with its ${JOBS} rows), cold, ${RUNS} interleaved runs each: p50 ${fmt(p50(rowsMs))} ms, p90 ${fmt(percentile(rowsMs, 90))} ms; ` +
        `blank page: p50 ${fmt(p50(blankMs))} ms, p90 ${fmt(percentile(blankMs, 90))} ms; ratio of p50s ${fmt(p50(rowsMs) / p50(blankMs), 1)}`,
    );
    console.log(
      `  p50s: HTML received at ${fmt(p50(consoles.map((v) => v.htmlAt)))} ms (blank: ${fmt(p50(blanks.map((v) => v.htmlAt)))} ms); ` +
        `main JS fetched in ${fmt(p50(jsMs))} ms, all initial assets received at ${fmt(p50(consoles.map((v) => v.assetsAt)))} ms; header inserted at ${fmt(p50(shellDomMs))} ms, painted at ${fmt(p50(shellMs))} ms; ` +
        `GET /v1/jobs took ${fmt(p50(apiMs))} ms; rows inserted at ${fmt(p50(rowsDomMs))} ms, painted at ${fmt(p50(rowsMs))} ms`,
    );
    if (gz > BUDGET_KB * 1024) throw new Error(`initial JS + CSS over budget: ${fmt(gz / 1024, 1)} KB gzipped`);
  } finally {
    await browser?.close();
    await stack.stop();
    await new Promise((resolve) => blank.close(resolve));
  }
}

main().catch((error) => {
  console.error(`bench: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});

import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

/** Where page screenshots are kept as test artifacts (gitignored). */
export const ARTIFACTS = join(process.cwd(), 'test-artifacts', 'console');

/**
 * Debian's `chromium` (`.ci/run` installs it), or `CHROMIUM_PATH`. Never skipped: a missing browser
 * fails the test with the command that installs it.
 */
export async function launchChromium(): Promise<Browser> {
  const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  if (!existsSync(executablePath)) throw new Error(`no Chromium at ${executablePath}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  await mkdir(ARTIFACTS, { recursive: true });
  // --no-sandbox: CI and this machine run as root, where Chromium's sandbox cannot start.
  return chromium.launch({ executablePath, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
}

const axeSource = readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: number;
}

/**
 * Runs axe-core on the page as it is (WCAG 2.1 A and AA rules) and returns its serious and critical
 * violations. axe is evaluated through the DevTools protocol, so the page's CSP (no inline or
 * foreign script) stays in force.
 */
export async function seriousViolations(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(await axeSource);
  // A string, run in the page (the tests are typed for Node, without the DOM's globals).
  const result = await page.evaluate<AxeViolation[]>(`axe
    .run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } })
    .then(({ violations }) => violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.length })))`);
  return result.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureConsoleBuild, type ConsoleBuild } from '../../../console/build';

/** The budget for what the first page load needs (JS + CSS, gzipped). */
const INITIAL_BUDGET_BYTES = 150 * 1024;

let outRoot: string;
let build: ConsoleBuild;

beforeAll(async () => {
  outRoot = await mkdtemp(join(tmpdir(), 'sx-console-build-'));
  build = await ensureConsoleBuild({ outRoot });
}, 60_000);
afterAll(() => rm(outRoot, { recursive: true, force: true }));

describe('the console build', () => {
  it('keeps the initial JS and CSS within 150 KB gzipped', async () => {
    expect(build.initial.some((f) => f.endsWith('.js'))).toBe(true);
    expect(build.initial.some((f) => f.endsWith('.css'))).toBe(true);
    const sizes = await Promise.all(build.initial.map(async (f) => gzipSync(await readFile(join(build.dir, f)), { level: 9 }).length));
    const total = sizes.reduce((a, b) => a + b, 0);
    expect(total).toBeLessThanOrEqual(INITIAL_BUDGET_BYTES);
  });

  it('loads its code from files only: no inline script or style for the CSP to allow', async () => {
    const html = await readFile(join(build.dir, 'index.html'), 'utf8');
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts).toHaveLength(1);
    for (const [, attributes, body] of scripts) {
      expect(attributes).toMatch(/src="\/assets\/main-[\w]+\.js"/);
      expect(body).toBe('');
    }
    expect(html).not.toMatch(/<style|\sstyle=|\son\w+=/i);
    // The chunks the entry imports statically are preloaded beside it, and counted in the first load.
    for (const chunk of build.initial.filter((f) => f.endsWith('.js') && !f.includes('/main-'))) {
      expect(html).toContain(`<link rel="modulepreload" href="/${chunk}">`);
    }
  });

  it('renders nothing as HTML: no innerHTML or the like in its sources', async () => {
    const sources = await readdir(join(process.cwd(), 'console', 'src'), { recursive: true });
    for (const file of sources.filter((f) => /\.tsx?$/.test(f))) {
      const code = await readFile(join(process.cwd(), 'console', 'src', file), 'utf8');
      expect(code, file).not.toMatch(/innerHTML|dangerouslySetInnerHTML|insertAdjacentHTML|document\.write/);
    }
  });

  it('is reused while its inputs are unchanged', async () => {
    const again = await ensureConsoleBuild({ outRoot });
    expect(again).toEqual({ ...build, built: false });
  });
});

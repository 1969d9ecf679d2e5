import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(__dirname, '../../..');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** Files allowed to append events or retry on a conflict: the handler itself and the stores it runs on. */
const allowed = (path: string) => path === 'functions/command-handler.ts' || path.startsWith('functions/adapters/');

describe('one command handler', () => {
  it('Given the functions, Then only the command handler appends events or retries a conflict', () => {
    const offenders = sources(join(root, 'functions'))
      .map((path) => ({ path: relative(root, path), text: readFileSync(path, 'utf8') }))
      .filter(({ path, text }) => !allowed(path) && /\.append\(|retryOnConflict/.test(text))
      .map(({ path }) => path);
    expect(offenders).toEqual([]);
  });
});

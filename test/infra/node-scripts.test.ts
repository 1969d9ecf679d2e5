import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

// The scripts every Batch node installs (infra/cdk/constructs/batch-compute.ts), run as the node runs them.
const script = (name: string) => fileURLToPath(new URL(`../../infra/cdk/node/${name}`, import.meta.url));
const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
const checkpointDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'sx-ckpt-'));
  dirs.push(dir);
  return dir;
};
const entry = (dir: string, args: string[], env: Record<string, string> = {}) =>
  spawnSync('sh', [script('sx-entry.sh'), ...args], { encoding: 'utf8', env: { PATH: process.env.PATH, SX_CHECKPOINT_DIR: dir, ...env } });

describe('sx-entry (the first word of every job command)', () => {
  it("runs the job's command with its arguments and exit code once the checkpoint directory is restored", () => {
    const dir = checkpointDir();
    writeFileSync(join(dir, '.sx-restored'), '');
    const res = entry(dir, ['sh', '-c', 'echo "$1 $2"; exit 3', 'sh', 'a b', 'c']);
    expect({ status: res.status, stdout: res.stdout }).toEqual({ status: 3, stdout: 'a b c\n' });
  });

  it('fails the attempt with 70 when the restore has not finished in time, without running the command', () => {
    const res = entry(checkpointDir(), ['sh', '-c', 'echo ran'], { SX_RESTORE_TIMEOUT_SECONDS: '0' });
    expect(res.status).toBe(70);
    expect(res.stdout).toBe('');
    expect(res.stderr).toMatch(/not restored within 0s/);
  });

  it('refuses an empty command with 64', () => {
    const dir = checkpointDir();
    writeFileSync(join(dir, '.sx-restored'), '');
    expect(entry(dir, []).status).toBe(64);
  });
});

describe('sx-job-sync (the node service)', () => {
  it('is valid bash', () => {
    const res = spawnSync('bash', ['-n', script('sx-job-sync.sh')], { encoding: 'utf8' });
    expect({ status: res.status, stderr: res.stderr }).toEqual({ status: 0, stderr: '' });
  });
});

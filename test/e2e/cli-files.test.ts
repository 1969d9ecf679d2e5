import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../support/local-stack';
import { runSx } from '../support/sx-process';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

let stack: TestStack;
let home: string;
beforeAll(async () => {
  stack = await startTestStack();
  home = await mkdtemp(join(tmpdir(), 'sx-cli-files-'));
}, 60_000);
afterAll(async () => {
  await stack?.drop();
  if (home) await rm(home, { recursive: true, force: true });
}, 60_000);

async function newUser() {
  const email = `cli-files-${randomBytes(3).toString('hex')}@example.com`;
  const res = await fetch(`${stack.url}/v1/signup`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email }) });
  const { api_key: key } = (await res.json()) as { api_key: string };
  return { SX_API_URL: stack.url, XDG_CONFIG_HOME: home, HOME: home, SX_API_KEY: key };
}

describe('sx files and job data', () => {
  it('uploads a file, runs a job on it by path, and downloads its outputs byte-identical', async () => {
    // Arrange
    const env = await newUser();
    const bytes = randomBytes(9 * 1024 * 1024 + 3);
    const path = join(home, 'corpus.bin');
    await writeFile(path, bytes);

    // Act
    const uploaded = await runSx(['files', 'upload', path, '--purpose', 'dataset', '--json'], env);
    const listed = await runSx(['files', 'ls', '--json'], env);
    const run = await runSx(['run', '--json', '--image', 'local/sh:1', '--input', 'data=' + path, '--', 'sh', '-c', 'cp "$SX_INPUT_DIR/data/corpus.bin" "$SX_OUTPUT_DIR/copy.bin"'], env);
    const job = JSON.parse(run.stdout) as { id: string; status: string };
    const outputs = await runSx(['jobs', 'outputs', job.id, '--json'], env);
    const out = join(home, 'out');
    const download = await runSx(['jobs', 'download', job.id, '--out', out], env);
    const fileDownload = await runSx(['files', 'download', JSON.parse(uploaded.stdout).id, '--out', join(home, 'again.bin')], env);

    // Assert
    expect(uploaded.code).toBe(0);
    expect(JSON.parse(uploaded.stdout)).toMatchObject({ status: 'ready', size: bytes.length, sha256: sha256(bytes), filename: 'corpus.bin' });
    expect(JSON.parse(listed.stdout)).toHaveLength(1);
    expect([run.code, job.status]).toEqual([0, 'succeeded']);
    expect(JSON.parse(outputs.stdout).map((o: { path: string; size: number }) => [o.path, o.size])).toEqual([['copy.bin', bytes.length]]);
    expect(download.code).toBe(0);
    expect(sha256(await readFile(join(out, 'copy.bin')))).toBe(sha256(bytes));
    expect(fileDownload.code).toBe(0);
    expect(sha256(await readFile(join(home, 'again.bin')))).toBe(sha256(bytes));
  }, 180_000);

  it('says in one line what is wrong with a path or an input', async () => {
    const env = await newUser();
    const missing = await runSx(['files', 'upload', join(home, 'nope.txt')], env);
    const badInput = await runSx(['run', '--image', 'a/b:1', '--input', 'Bad=x', '--', 'true'], env);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('nope.txt: not a file');
    expect(badInput.code).not.toBe(0);
    expect(badInput.stderr).toContain('name=path');
  }, 60_000);
});

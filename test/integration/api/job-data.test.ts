import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../../../infra/local/stack-process';
import { signUp, startTestStack, type TestStack } from '../../support/local-stack';
import { SxClient } from '../../../sdk';

/** Per test: megabytes through the whole stack take long on a busy machine (no timing is asserted). */
const BUSY_MACHINE_MS = 120_000;

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

type Account = Awaited<ReturnType<typeof signUp>>;

let stack: TestStack;
let alice: Account;
let bob: Account;
beforeAll(async () => {
  stack = await startTestStack({ policy: { stopGraceSeconds: 1 } });
  alice = await signUp(stack.url, 'alice-data@example.com');
  bob = await signUp(stack.url, 'bob-data@example.com');
}, 60_000);
afterAll(async () => stack?.drop(), 60_000);

async function runToEnd(account: Account, command: string[]) {
  const job = await account.api.post('/v1/jobs', { image: 'local/sh:1', command, gpu_count: 1, max_runtime_seconds: 120 });
  expect(job.status).toBe(201);
  return eventually(async () => {
    const j = (await account.api.get(`/v1/jobs/${job.body.id}`)).body;
    return ['succeeded', 'failed', 'cancelled'].includes(j.status) && j;
  }, 30_000, `job ${job.body.id} to end`);
}

describe("a job's outputs and checkpoints", () => {
  it('are listed with signed URLs once the job is final, also after it failed, and only to its owner', async () => {
    // Arrange: a job that writes an output file, a nested one and a checkpoint, then exits 3.
    const script = 'mkdir -p "$SX_OUTPUT_DIR/model" && printf weights > "$SX_OUTPUT_DIR/model/w.bin" && printf hi > "$SX_OUTPUT_DIR/log.txt" && printf step7 > "$SX_CHECKPOINT_DIR/last.ckpt" && exit 3';

    // Act
    const job = await runToEnd(alice, ['sh', '-c', script]);
    const outputs = await alice.api.get(`/v1/jobs/${job.id}/outputs`);
    const checkpoints = await alice.api.get(`/v1/jobs/${job.id}/checkpoints`);

    // Assert
    expect(job).toMatchObject({ status: 'failed', failure_reason: 'non_zero_exit' });
    expect(outputs.body.data.map((o: { path: string; size: number }) => [o.path, o.size])).toEqual([['log.txt', 2], ['model/w.bin', 7]]);
    const weights = outputs.body.data[1];
    expect(Date.parse(weights.expires_at) - Date.now()).toBeLessThanOrEqual(3600_000);
    expect(Number(new URL(weights.url).searchParams.get('X-Amz-Expires'))).toBeLessThanOrEqual(3600);
    expect(Buffer.from(await (await fetch(weights.url)).arrayBuffer()).toString()).toBe('weights');
    expect(checkpoints.body.data.map((o: { path: string }) => o.path)).toEqual(['last.ckpt']);
    expect((await bob.api.get(`/v1/jobs/${job.id}/outputs`)).status).toBe(404);
    expect((await bob.api.get(`/v1/jobs/${job.id}/checkpoints`)).status).toBe(404);
  }, BUSY_MACHINE_MS);

  it('is empty while the job has not ended', async () => {
    const job = await alice.api.post('/v1/jobs', { image: 'local/sh:1', command: ['sh', '-c', 'echo x > "$SX_OUTPUT_DIR/x"; sleep 30'], gpu_count: 1, max_runtime_seconds: 120 });
    await eventually(async () => (await alice.api.get(`/v1/jobs/${job.body.id}`)).body.status === 'running', 20_000, 'running');
    expect((await alice.api.get(`/v1/jobs/${job.body.id}/outputs`)).body.data).toEqual([]);
    await alice.api.post(`/v1/jobs/${job.body.id}/cancel`);
    const outputs = await eventually(async () => {
      const o = (await alice.api.get(`/v1/jobs/${job.body.id}/outputs`)).body.data;
      return o.length > 0 && o;
    }, 20_000, 'outputs after the cancel');
    expect(outputs.map((o: { path: string }) => o.path)).toEqual(['x']);
    expect((await alice.api.get(`/v1/jobs/${job.body.id}`)).body.status).toBe('cancelled');
    expect(sha256(Buffer.from(await (await fetch(outputs[0].url)).arrayBuffer()))).toBe(sha256(Buffer.from('x\n')));
  }, BUSY_MACHINE_MS);
});

describe("a job's inputs", () => {
  it('reads a file, an unpacked archive and an earlier job’s output, read-only under $SX_INPUT_DIR', async () => {
    // Arrange: a text file, a .tar.gz of two files, and a job whose output is a "model".
    const sx = new SxClient({ baseUrl: stack.url, apiKey: alice.apiKey });
    const dir = await mkdtemp(join(tmpdir(), 'sx-inputs-'));
    await mkdir(join(dir, 'tree/sub'), { recursive: true });
    await writeFile(join(dir, 'train.txt'), 'to be or not to be');
    await writeFile(join(dir, 'tree/a.txt'), 'A');
    await writeFile(join(dir, 'tree/sub/b.txt'), 'B');
    execFileSync('tar', ['-czf', join(dir, 'set.tar.gz'), '-C', join(dir, 'tree'), '.']);
    const text = await sx.files.upload(join(dir, 'train.txt'));
    const archive = await sx.files.upload(join(dir, 'set.tar.gz'));
    const base = await runToEnd(alice, ['sh', '-c', 'mkdir -p "$SX_OUTPUT_DIR/m" && printf base-weights > "$SX_OUTPUT_DIR/m/w.bin"']);
    await rm(dir, { recursive: true, force: true });

    // Act
    const script = [
      'cat "$SX_INPUT_DIR/data/train.txt" > "$SX_OUTPUT_DIR/seen.txt"',
      'cat "$SX_INPUT_DIR/set/a.txt" "$SX_INPUT_DIR/set/sub/b.txt" >> "$SX_OUTPUT_DIR/seen.txt"',
      'cat "$SX_INPUT_DIR/base/m/w.bin" >> "$SX_OUTPUT_DIR/seen.txt"',
      'ls -ld "$SX_INPUT_DIR/data/train.txt" | cut -c1-10 > "$SX_OUTPUT_DIR/mode.txt"',
    ].join(' && ');
    const created = await alice.api.post('/v1/jobs', {
      image: 'local/sh:1',
      command: ['sh', '-c', script],
      gpu_count: 1,
      max_runtime_seconds: 120,
      inputs: [{ name: 'data', file_id: text.id }, { name: 'set', file_id: archive.id, extract: true }, { name: 'base', job_id: base.id }],
    });
    const job = await eventually(async () => {
      const j = (await alice.api.get(`/v1/jobs/${created.body.id}`)).body;
      return ['succeeded', 'failed', 'cancelled'].includes(j.status) && j;
    }, 30_000, 'the reading job to end');
    const outputs = (await alice.api.get(`/v1/jobs/${job.id}/outputs`)).body.data as Array<{ path: string; url: string }>;
    const read = async (path: string) => (await fetch(outputs.find((o) => o.path === path)!.url)).text();

    // Assert
    expect(created.body.inputs).toEqual([{ name: 'data', file_id: text.id, extract: false }, { name: 'set', file_id: archive.id, extract: true }, { name: 'base', job_id: base.id }]);
    expect(job.status).toBe('succeeded');
    expect(await read('seen.txt')).toBe('to be or not to beABbase-weights');
    expect(await read('mode.txt')).toBe('-r--r--r--\n');
  }, BUSY_MACHINE_MS);

  it('refuses another account’s file or job exactly like one that does not exist, and a file not ready', async () => {
    const theirs = (await bob.api.post('/v1/files', { filename: 'b.txt', size: 3 })).body.id;
    const theirJob = (await bob.api.post('/v1/jobs', { image: 'local/sh:1', command: ['true'], gpu_count: 1, max_runtime_seconds: 60 })).body.id;
    const unfinished = (await alice.api.post('/v1/files', { filename: 'u.txt', size: 3 })).body.id;
    const nobody = `file_01${'0'.repeat(24)}`;
    const nobodysJob = `job_01${'0'.repeat(24)}`;
    const submit = (inputs: unknown[]) => alice.api.post('/v1/jobs', { image: 'local/sh:1', command: ['true'], gpu_count: 1, max_runtime_seconds: 60, inputs });
    const mask = (body: { errors: unknown[]; detail: string }) => JSON.stringify([body.errors, body.detail]).replace(/(file|job)_[0-9a-z]{26}/g, 'ID');

    const otherFile = await submit([{ name: 'd', file_id: theirs }]);
    const noFile = await submit([{ name: 'd', file_id: nobody }]);
    const otherJob = await submit([{ name: 'd', job_id: theirJob }]);
    const noJob = await submit([{ name: 'd', job_id: nobodysJob }]);
    const notReady = await submit([{ name: 'd', file_id: unfinished }]);
    const badNames = await submit([{ name: 'Bad Name', file_id: nobody }, { name: 'x', file_id: nobody }, { name: 'x', job_id: nobodysJob }]);

    for (const res of [otherFile, noFile, otherJob, noJob, notReady, badNames]) expect([res.status, res.body.type]).toEqual([400, 'invalid_request']);
    expect(mask(otherFile.body)).toBe(mask(noFile.body));
    expect(mask(otherJob.body)).toBe(mask(noJob.body));
    expect(notReady.body.errors).toEqual([{ path: 'inputs.0.file_id', message: `input d: file ${unfinished} is uploading, not ready` }]);
    expect(JSON.stringify(otherFile.body)).not.toContain('b.txt');
  }, BUSY_MACHINE_MS);

  it('refuses to delete a file while a queued or running job reads it, and deletes it once the job has ended', async () => {
    const created = (await alice.api.post('/v1/files', { filename: 'in.txt', size: 2 })).body;
    const etag = (await fetch(created.upload.parts[0].url, { method: 'PUT', body: 'hi' })).headers.get('etag');
    await alice.api.post(`/v1/files/${created.id}/complete`, { parts: [{ part_number: 1, etag }] });
    const job = (await alice.api.post('/v1/jobs', { image: 'local/sh:1', command: ['sleep', '60'], gpu_count: 1, max_runtime_seconds: 120, inputs: [{ name: 'd', file_id: created.id }] })).body;

    // Refused at once: the job's list entry is written with the job.
    const refused = await alice.api.request('DELETE', `/v1/files/${created.id}`);
    expect(refused.status).toBe(409);
    await alice.api.post(`/v1/jobs/${job.id}/cancel`);
    const deleted = await eventually(async () => {
      const res = await alice.api.request('DELETE', `/v1/files/${created.id}`);
      return res.status === 204 && res;
    }, 30_000, 'the delete once the job has ended');

    expect(refused.body.type).toBe('invalid_state');
    expect(refused.body.detail).toContain(job.id);
    expect(deleted.status).toBe(204);
    expect((await alice.api.get(`/v1/jobs/${job.id}`)).body.status).toBe('cancelled');
  }, BUSY_MACHINE_MS);
});

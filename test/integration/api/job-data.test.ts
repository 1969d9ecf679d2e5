import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../../../infra/local/stack-process';
import { signUp, startTestStack, type TestStack } from '../../support/local-stack';

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

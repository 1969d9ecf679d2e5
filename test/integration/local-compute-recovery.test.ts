import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

import { afterEach, describe, expect, it } from 'vitest';

import type { BatchJobStateChange } from '../../events/batch-state-change';
import type { ComputeJobSpec } from '../../functions/adapters/compute';
import { LocalCompute } from '../../infra/local/compute';
import { isAlive } from '../support/processes';

/** Everything a test started, torn down after it whatever happened. */
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A LocalCompute in its own process (test/support/compute-process.ts), which the test can SIGKILL like a crashed stack. */
async function givenComputeProcess(dataDir: string, gpus: number) {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'test/support/compute-process.ts', dataDir, String(gpus)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  cleanups.push(() => void child.kill('SIGKILL'));
  const events: BatchJobStateChange[] = [];
  let ready = false;
  createInterface({ input: child.stdout! }).on('line', (line) => {
    if (line === 'ready') ready = true;
    else events.push(JSON.parse(line));
  });
  await until(() => ready, 20_000);
  return {
    events,
    submit: (spec: ComputeJobSpec) => child.stdin!.write(`${JSON.stringify(spec)}\n`),
    terminate: (jobId: string) => child.stdin!.write(`${JSON.stringify({ terminate: jobId })}\n`),
    until: (jobId: string, status: string) => until(() => events.find((e) => e.detail.jobName === jobId && e.detail.status === status)),
    crash: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** The backend restarted in this process on the same data dir, recording its events. */
function givenRestartedCompute(dataDir: string, gpus: number) {
  const events: BatchJobStateChange[] = [];
  const compute = new LocalCompute({ dataDir, gpus, onEvent: (event) => events.push(event) });
  cleanups.push(() => compute.stop({ graceSeconds: 0 }));
  const of = (jobId: string) => events.filter((e) => e.detail.jobName === jobId);
  return {
    compute,
    events,
    statusesOf: (jobId: string) => of(jobId).map((e) => e.detail.status),
    untilFinal: (jobId: string) => until(() => of(jobId).find((e) => e.detail.status === 'SUCCEEDED' || e.detail.status === 'FAILED')),
  };
}

function givenDataDir() {
  const dataDir = mkdtempSync(join(tmpdir(), 'sx-compute-recovery-'));
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  return dataDir;
}

let seq = 0;
const aJob = (command: string[], overrides: Partial<ComputeJobSpec> = {}): ComputeJobSpec => ({
  jobId: `job_recovery${++seq}`,
  accountId: 'acct_test',
  image: 'local/test:1',
  command,
  env: {},
  gpuType: 'a100',
  gpuCount: 1,
  timeoutSeconds: 60,
  graceSeconds: 30,
  ...overrides,
});

async function until<T>(probe: () => T | undefined | false, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = probe();
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}


const lines = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').filter(Boolean) : []);

describe('LocalCompute after its process was SIGKILLed', () => {
  it('kills the leftover job processes, retries the lost attempt, runs the queued job and remembers the finished one', async () => {
    // Prepare: one GPU; a finished job, a running one (with a child that left its process group) and a queued one.
    const dataDir = givenDataDir();
    const first = await givenComputeProcess(dataDir, 1);
    const done = aJob(['true']);
    first.submit(done);
    const doneEvent = await first.until(done.jobId, 'SUCCEEDED');
    const marks = join(dataDir, 'marks');
    const running = aJob([
      'sh',
      '-c',
      `echo "$AWS_BATCH_JOB_ATTEMPT" >> ${marks}.starts
       if [ "$AWS_BATCH_JOB_ATTEMPT" = 1 ]; then
         setsid sleep 60 & echo $! >> ${marks}.pids
         echo $$ >> ${marks}.pids
         exec sleep 60
       fi`,
    ]);
    const queued = aJob(['true']);
    first.submit(running);
    first.submit(queued);
    await first.until(running.jobId, 'RUNNING');
    await until(() => lines(`${marks}.pids`).length === 2);
    await first.until(queued.jobId, 'RUNNABLE');

    // Act
    await first.crash();
    const orphans = lines(`${marks}.pids`).map(Number);
    expect(orphans.every(isAlive)).toBe(true); // what a SIGKILLed stack leaves behind
    const restarted = givenRestartedCompute(dataDir, 1);
    const report = await restarted.compute.recover();

    // Assess
    expect(report).toEqual({ known: 3, requeued: 1, lostAttempts: 1, stopped: 0, killedProcesses: 2 });
    expect(orphans.some(isAlive)).toBe(false);
    const retried = await restarted.untilFinal(running.jobId);
    expect(restarted.statusesOf(running.jobId)).toEqual(['RUNNABLE', 'STARTING', 'RUNNING', 'SUCCEEDED']);
    const [lost] = retried.detail.attempts!;
    expect(lost!.statusReason).toMatch(/^Host EC2 \(instance i-local\d+\) terminated\.$/);
    expect(lost!.startedAt).toBeLessThanOrEqual(lost!.stoppedAt!);
    expect(lines(`${marks}.starts`)).toEqual(['1', '2']); // each attempt started once
    expect((await restarted.untilFinal(queued.jobId)).detail.status).toBe('SUCCEEDED');
    // The finished job is still known: described as it ended, and a second submit changes nothing.
    const [described] = await restarted.compute.describe([doneEvent.detail.jobId]);
    expect(described).toMatchObject({ status: 'SUCCEEDED', detail: { jobName: done.jobId } });
    expect(await restarted.compute.submit(done)).toEqual({ batchJobId: doneEvent.detail.jobId });
    expect(restarted.statusesOf(done.jobId)).toEqual([]);
  }, 60_000);

  it('fails a job that was being stopped with its stop reason instead of retrying it', async () => {
    // Prepare: a job that ignores SIGTERM, so it is still stopping (30 s grace) when the process dies.
    const dataDir = givenDataDir();
    const first = await givenComputeProcess(dataDir, 1);
    const stubborn = aJob(['sh', '-c', 'trap "" TERM; while true; do sleep 0.1; done']);
    first.submit(stubborn);
    await first.until(stubborn.jobId, 'RUNNING');
    first.terminate(stubborn.jobId);
    const journal = join(dataDir, 'jobs', stubborn.jobId, 'batch-job.json');
    await until(() => JSON.parse(readFileSync(journal, 'utf8')).stopReason);

    // Act
    await first.crash();
    const restarted = givenRestartedCompute(dataDir, 1);
    const report = await restarted.compute.recover();

    // Assess
    expect(report).toMatchObject({ known: 1, stopped: 1, lostAttempts: 0 });
    const final = await restarted.untilFinal(stubborn.jobId);
    expect(final.detail).toMatchObject({ status: 'FAILED', statusReason: 'Cancelled by the test' });
    expect(final.detail.attempts).toHaveLength(1);
    expect(restarted.statusesOf(stubborn.jobId)).toEqual(['FAILED']);
  }, 60_000);
});

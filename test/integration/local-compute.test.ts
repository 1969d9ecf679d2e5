import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

import { afterEach, describe, expect, it, vi } from 'vitest';

import { BatchJobStateChange } from '../../events/batch-state-change';
import type { ComputeJobSpec } from '../../functions/adapters/compute';
import { LocalCompute, SHUTDOWN_REASON, TIMEOUT_REASON } from '../../infra/local/compute';

const FINAL = new Set(['SUCCEEDED', 'FAILED']);
const NODE = process.execPath;

/** Everything a test started, torn down after it whatever happened. */
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A backend in its own temp dir, recording every event it emits. */
function givenLocalCompute(options: { gpus?: number; onEvent?: () => void } = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'sx-local-compute-'));
  const events: BatchJobStateChange[] = [];
  const compute = new LocalCompute({
    dataDir,
    gpus: options.gpus,
    onEvent: (event) => {
      events.push(event);
      options.onEvent?.();
    },
  });
  cleanups.push(async () => {
    await compute.stop({ graceSeconds: 0 });
    rmSync(dataDir, { recursive: true, force: true });
  });

  const eventsOf = (jobId: string) => events.filter((event) => event.detail.jobName === jobId);
  const statusesOf = (jobId: string) => eventsOf(jobId).map((event) => event.detail.status);
  const untilEvent = (jobId: string, status: string) =>
    until(() => eventsOf(jobId).find((event) => event.detail.status === status));
  const untilFinal = (jobId: string) =>
    until(() => eventsOf(jobId).find((event) => FINAL.has(event.detail.status)));
  const jobDir = (jobId: string) => join(dataDir, 'jobs', jobId);
  return { compute, dataDir, events, eventsOf, statusesOf, untilEvent, untilFinal, jobDir };
}

let jobSeq = 0;
function aJob(overrides: Partial<ComputeJobSpec> = {}): ComputeJobSpec {
  jobSeq += 1;
  return {
    jobId: `job_test${jobSeq}`,
    accountId: 'acct_test',
    image: 'suanxiang/trainer:1',
    command: ['true'],
    env: {},
    gpuType: 'a100',
    gpuCount: 1,
    timeoutSeconds: 60,
    graceSeconds: 1,
    ...overrides,
  };
}

/** Polls until `probe` returns something, or fails after `timeoutMs`. */
async function until<T>(
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 8000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await probe();
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Whether a process is alive; a zombie left for an init that does not reap counts as dead. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** The jobs (by jobId) in the order they were started. */
const startOrder = (events: BatchJobStateChange[]) =>
  events.filter((event) => event.detail.status === 'STARTING').map((event) => event.detail.jobName);

const readPid = (file: string) => Number(readFileSync(file, 'utf8').trim());

describe('LocalCompute', () => {
  describe('a job that exits 0', () => {
    it('runs through every Batch status to SUCCEEDED, with its log and a clean env', async () => {
      // Prepare
      const { compute, events, eventsOf, statusesOf, untilFinal, jobDir } = givenLocalCompute({ gpus: 4 });
      vi.stubEnv('SX_ADMIN_KEY', 'host-secret');
      cleanups.push(async () => void vi.unstubAllEnvs());
      const job = aJob({
        gpuCount: 2,
        env: { MODEL: 'llama-3-8b' },
        command: [
          NODE,
          '-e',
          `console.log('hello from ' + process.env.SX_JOB_ID);
           console.error('a warning');
           const out = process.env.SX_OUTPUT_DIR + '/env.json';
           require('fs').writeFileSync(out, JSON.stringify(process.env));`,
        ],
      });

      // Act
      const { batchJobId } = await compute.submit(job);
      const final = await untilFinal(job.jobId);

      // Assess
      expect(statusesOf(job.jobId)).toEqual(['SUBMITTED', 'RUNNABLE', 'STARTING', 'RUNNING', 'SUCCEEDED']);
      for (const event of events) expect(() => BatchJobStateChange.parse(event)).not.toThrow();
      expect(final).toMatchObject({
        version: '0',
        source: 'aws.batch',
        'detail-type': 'Batch Job State Change',
        resources: [final.detail.jobArn],
        detail: {
          jobName: job.jobId,
          jobId: batchJobId,
          status: 'SUCCEEDED',
          statusReason: 'Essential container in task exited',
          container: { exitCode: 0 },
          attempts: [{ container: { exitCode: 0 }, statusReason: 'Essential container in task exited' }],
          tags: { 'sx:job-id': job.jobId, 'sx:account-id': 'acct_test' },
        },
      });
      expect(final.detail.startedAt).toBeGreaterThanOrEqual(final.detail.createdAt!);
      expect(final.detail.stoppedAt).toBeGreaterThanOrEqual(final.detail.startedAt!);
      expect(new Set(eventsOf(job.jobId).map((event) => event.id)).size).toBe(5);

      expect(await compute.readLogs(job.jobId)).toBe(`hello from ${job.jobId}\na warning\n`);
      const env = JSON.parse(readFileSync(join(jobDir(job.jobId), 'output', 'env.json'), 'utf8'));
      expect(env).toMatchObject({
        MODEL: 'llama-3-8b',
        SX_JOB_ID: job.jobId,
        SX_OUTPUT_DIR: join(jobDir(job.jobId), 'output'),
        SX_CHECKPOINT_DIR: join(jobDir(job.jobId), 'checkpoints'),
        SX_GPU_COUNT: '2',
        NVIDIA_VISIBLE_DEVICES: '0,1',
        AWS_BATCH_JOB_ATTEMPT: '1',
        PATH: process.env.PATH,
      });
      expect(env).not.toHaveProperty('SX_ADMIN_KEY');
      const allowed = ['PATH', 'HOME', 'LANG', 'MODEL', 'SX_JOB_ID', 'SX_INPUT_DIR', 'SX_OUTPUT_DIR', 'SX_CHECKPOINT_DIR'];
      allowed.push('SX_GPU_COUNT', 'NVIDIA_VISIBLE_DEVICES', 'AWS_BATCH_JOB_ATTEMPT');
      expect(Object.keys(env).filter((key) => !allowed.includes(key))).toEqual([]);
      expect(existsSync(join(jobDir(job.jobId), 'checkpoints'))).toBe(true);
      expect(compute.outputUri(job.jobId)).toBe(pathToFileURL(join(jobDir(job.jobId), 'output')).href + '/');
      expect(compute.runningGpus()).toBe(0);
    });

    it('is reported by describe like its last event, and survives an onEvent that throws', async () => {
      // Prepare
      const consoleError = vi.spyOn(console, 'error').mockImplementation(() => {});
      cleanups.push(async () => consoleError.mockRestore());
      const { compute, untilFinal } = givenLocalCompute({
        onEvent: () => {
          throw new Error('queue is full');
        },
      });
      const job = aJob();

      // Act
      const { batchJobId } = await compute.submit(job);
      const final = await untilFinal(job.jobId);

      // Assess
      expect(await compute.describe([batchJobId, 'unknown'])).toEqual([
        { batchJobId, status: 'SUCCEEDED', detail: final.detail },
      ]);
      expect(consoleError).toHaveBeenCalled();
      expect(await compute.readLogs('job_never_submitted')).toBe('');
    });
  });

  describe('a job that fails', () => {
    it('reports FAILED with the exit code of a non-zero exit', async () => {
      const { compute, statusesOf, untilFinal } = givenLocalCompute();
      const job = aJob({ command: ['sh', '-c', 'echo bad input; exit 3'] });

      await compute.submit(job);
      const final = await untilFinal(job.jobId);

      expect(statusesOf(job.jobId)).toEqual(['SUBMITTED', 'RUNNABLE', 'STARTING', 'RUNNING', 'FAILED']);
      expect(final.detail).toMatchObject({
        statusReason: 'Essential container in task exited',
        container: { exitCode: 3 },
        attempts: [{ container: { exitCode: 3 } }],
      });
      expect(await compute.readLogs(job.jobId)).toBe('bad input\n');
    });

    it('reports CannotStartContainerError for a missing executable, and frees its GPUs', async () => {
      const { compute, statusesOf, untilFinal } = givenLocalCompute();
      const job = aJob({ command: ['/no/such/trainer', '--epochs', '1'], gpuCount: 8 });

      await compute.submit(job);
      const final = await untilFinal(job.jobId);

      expect(statusesOf(job.jobId)).toEqual(['SUBMITTED', 'RUNNABLE', 'STARTING', 'FAILED']);
      expect(final.detail.statusReason).toMatch(/^CannotStartContainerError: .*ENOENT/);
      expect(final.detail.attempts?.[0]?.container?.reason).toBe(final.detail.statusReason);
      expect(final.detail.container).not.toHaveProperty('exitCode');
      expect(final.detail).not.toHaveProperty('startedAt');
      expect(compute.runningGpus()).toBe(0);
    });

    it('fails at once a job needing more GPUs than the pool has, without starting it', async () => {
      const { compute, statusesOf, untilFinal } = givenLocalCompute({ gpus: 2 });
      const job = aJob({ gpuCount: 4 });

      await compute.submit(job);
      const final = await untilFinal(job.jobId);

      expect(statusesOf(job.jobId)).toEqual(['SUBMITTED', 'RUNNABLE', 'FAILED']);
      expect(final.detail.statusReason).toBe(
        'MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT - job needs more GPUs than the local pool has',
      );
      expect(final.detail.attempts).toEqual([]);
      expect(compute.queuedJobs()).toEqual([]);
      expect(compute.runningGpus()).toBe(0);
    });
  });

  describe('timeout', () => {
    it('sends SIGTERM to the job, which its trap sees, and reports the timeout', async () => {
      const { compute, untilFinal, jobDir } = givenLocalCompute();
      const job = aJob({
        timeoutSeconds: 1,
        graceSeconds: 1,
        command: ['sh', '-c', 'trap "echo saving > got-term.txt; exit 0" TERM; sleep 30 & wait'],
      });

      await compute.submit(job);
      const final = await untilFinal(job.jobId);

      expect(readFileSync(join(jobDir(job.jobId), 'got-term.txt'), 'utf8')).toBe('saving\n');
      // Batch reports a timed-out job as FAILED even when it exits cleanly on SIGTERM.
      expect(final.detail).toMatchObject({
        status: 'FAILED',
        statusReason: TIMEOUT_REASON,
        container: { exitCode: 0 },
      });
    });

    it('sends SIGKILL after the grace period to a job that ignores SIGTERM', async () => {
      const { compute, untilEvent, untilFinal } = givenLocalCompute();
      const job = aJob({
        timeoutSeconds: 1,
        graceSeconds: 1,
        command: ['sh', '-c', 'trap "" TERM; sleep 30'],
      });

      await compute.submit(job);
      const running = await untilEvent(job.jobId, 'RUNNING');
      const final = await untilFinal(job.jobId);

      expect(final.detail).toMatchObject({
        status: 'FAILED',
        statusReason: TIMEOUT_REASON,
        container: { exitCode: 137 },
      });
      expect(final.detail.stoppedAt! - running.detail.startedAt!).toBeGreaterThanOrEqual(1900);
    });
  });

  describe('terminate', () => {
    it('SIGTERMs a running job and reports FAILED with the reason, even after a clean exit', async () => {
      // Prepare
      const { compute, statusesOf, untilFinal } = givenLocalCompute();
      const job = aJob({
        graceSeconds: 5,
        command: [
          NODE,
          '-e',
          'process.on("SIGTERM", () => process.exit(0)); console.log("ready"); setInterval(() => {}, 1000)',
        ],
      });
      const { batchJobId } = await compute.submit(job);
      await until(async () => (await compute.readLogs(job.jobId)).includes('ready'));

      // Act
      await compute.terminate(batchJobId, 'Cancelled by user');
      await compute.terminate(batchJobId, 'Cancelled twice');
      const final = await untilFinal(job.jobId);
      await compute.terminate(batchJobId, 'Cancelled after the end');

      // Assess
      expect(statusesOf(job.jobId)).toEqual(['SUBMITTED', 'RUNNABLE', 'STARTING', 'RUNNING', 'FAILED']);
      expect(final.detail).toMatchObject({
        statusReason: 'Cancelled by user',
        container: { exitCode: 0 },
        attempts: [{ statusReason: 'Cancelled by user' }],
      });
      // Well within the 5 s grace: the process exited on SIGTERM, no SIGKILL was needed.
      expect(final.detail.stoppedAt! - final.detail.startedAt!).toBeLessThan(4000);
    });

    it('removes a waiting job from the queue and reports FAILED without a start', async () => {
      // Prepare
      const { compute, statusesOf, untilFinal } = givenLocalCompute({ gpus: 1 });
      const holder = aJob({ command: ['sleep', '30'] });
      const waiting = aJob();
      await compute.submit(holder);
      const { batchJobId } = await compute.submit(waiting);
      expect(compute.queuedJobs()).toEqual([waiting.jobId]);

      // Act
      await compute.terminate(batchJobId, 'Cancelled by user');
      await compute.terminate(batchJobId, 'Cancelled twice');

      // Assess
      const final = await untilFinal(waiting.jobId);
      expect(statusesOf(waiting.jobId)).toEqual(['SUBMITTED', 'RUNNABLE', 'FAILED']);
      expect(final.detail).toMatchObject({ statusReason: 'Cancelled by user', attempts: [] });
      expect(final.detail).not.toHaveProperty('startedAt');
      expect(compute.queuedJobs()).toEqual([]);
      expect(compute.runningGpus()).toBe(1);
    });

    it('ignores an unknown job', async () => {
      const { compute, events } = givenLocalCompute();

      await compute.terminate('4b8c3f0e-0000-4000-8000-000000000000', 'Cancelled by user');

      expect(events).toEqual([]);
    });
  });

  describe('submit', () => {
    it('is idempotent on the job id: a second submit returns the same job and runs nothing', async () => {
      // Prepare
      const { compute, statusesOf, untilFinal, jobDir } = givenLocalCompute();
      const job = aJob({ command: ['sh', '-c', 'echo run >> "$SX_OUTPUT_DIR/runs.txt"'] });

      // Act
      const [first, second] = await Promise.all([compute.submit(job), compute.submit(job)]);
      await untilFinal(job.jobId);
      const third = await compute.submit(job);

      // Assess
      expect(second).toEqual(first);
      expect(third).toEqual(first);
      expect(statusesOf(job.jobId)).toEqual(['SUBMITTED', 'RUNNABLE', 'STARTING', 'RUNNING', 'SUCCEEDED']);
      expect(readFileSync(join(jobDir(job.jobId), 'output', 'runs.txt'), 'utf8')).toBe('run\n');
    });
  });

  describe('the GPU pool', () => {
    it('makes a job wait until GPUs are free, and starts jobs in submission order', async () => {
      // Prepare
      const { compute, events, untilFinal } = givenLocalCompute({ gpus: 2 });
      const jobs = [1, 2, 3].map(() =>
        aJob({ command: ['sh', '-c', 'echo "gpus=$NVIDIA_VISIBLE_DEVICES"; sleep 0.3'] }),
      );
      const [first, second, third] = jobs as [ComputeJobSpec, ComputeJobSpec, ComputeJobSpec];

      // Act
      for (const job of jobs) await compute.submit(job);

      // Assess
      expect(compute.runningGpus()).toBe(2);
      expect(compute.queuedJobs()).toEqual([third.jobId]);
      for (const job of jobs) await untilFinal(job.jobId);
      const starts = startOrder(events);
      expect(starts).toEqual([first.jobId, second.jobId, third.jobId]);
      const firstEnd = events.findIndex((event) => FINAL.has(event.detail.status));
      const thirdStart = events.findIndex(
        (event) => event.detail.jobName === third.jobId && event.detail.status === 'STARTING',
      );
      expect(thirdStart).toBeGreaterThan(firstEnd);
      expect(await compute.readLogs(first.jobId)).toBe('gpus=0\n');
      expect(await compute.readLogs(second.jobId)).toBe('gpus=1\n');
      expect(compute.runningGpus()).toBe(0);
    });

    it('does not let a smaller job overtake a waiting bigger one', async () => {
      // Prepare
      const { compute, events, untilFinal } = givenLocalCompute({ gpus: 2 });
      const small = aJob({ command: ['sleep', '0.3'] });
      const big = aJob({ gpuCount: 2, command: ['true'] });
      const later = aJob({ command: ['true'] });

      // Act
      for (const job of [small, big, later]) await compute.submit(job);

      // Assess: one GPU is free, but `later` waits behind `big`.
      expect(compute.queuedJobs()).toEqual([big.jobId, later.jobId]);
      await untilFinal(later.jobId);
      const starts = startOrder(events);
      expect(starts).toEqual([small.jobId, big.jobId, later.jobId]);
    });
  });

  describe('stop', () => {
    it('terminates running jobs, fails waiting ones and leaves no process behind', async () => {
      // Prepare: a job whose shell and background child both ignore SIGTERM, and one waiting.
      const { compute, statusesOf, eventsOf, jobDir } = givenLocalCompute({ gpus: 1 });
      const stubborn = aJob({
        graceSeconds: 30,
        command: ['sh', '-c', 'trap "" TERM; sleep 30 & echo $! > child.pid; echo $$ > leader.pid; wait'],
      });
      const waiting = aJob();
      await compute.submit(stubborn);
      await compute.submit(waiting);
      const leaderPidFile = join(jobDir(stubborn.jobId), 'leader.pid');
      const childPidFile = join(jobDir(stubborn.jobId), 'child.pid');
      await until(() => existsSync(leaderPidFile) && existsSync(childPidFile));
      const [leader, child] = [readPid(leaderPidFile), readPid(childPidFile)];
      expect(isAlive(leader) && isAlive(child)).toBe(true);

      // Act
      await compute.stop({ graceSeconds: 1 });

      // Assess
      expect(isAlive(leader)).toBe(false);
      expect(isAlive(child)).toBe(false);
      expect(eventsOf(stubborn.jobId).at(-1)?.detail).toMatchObject({
        status: 'FAILED',
        statusReason: SHUTDOWN_REASON,
        container: { exitCode: 137 },
      });
      expect(statusesOf(waiting.jobId)).toEqual(['SUBMITTED', 'RUNNABLE', 'FAILED']);
      expect(eventsOf(waiting.jobId).at(-1)?.detail.statusReason).toBe(SHUTDOWN_REASON);
      await expect(compute.submit(aJob())).rejects.toThrow(/stopped/);
      expect(compute.runningGpus()).toBe(0);
    });
  });
});

/**
 * Compute figures of the local stack, run by `npm run bench` after the stack figures:
 * 1. submit → RUNNING with the pool not full: `POST /v1/jobs` answered → the compute side's RUNNING
 *    (its `startedAt`), 30 jobs one at a time; baseline: spawning the same command straight from Node.
 * 2. the pool full: 24 two-GPU jobs on 8 GPUs submitted at once; the start order against the
 *    submission order, and how long GPUs freed by a finished job sit idle while a job waits
 *    (the latest job end → the next job's RUNNING); baseline: the same spawn.
 */
import { spawn } from 'node:child_process';
import type { BatchJobStateChange } from '../events/batch-state-change';
import { startLocalStack } from '../infra/local/stack';
import { apiClient, eventually, ROOMY_RATE_LIMITS } from '../infra/local/stack-process';
import { fmt, percentile } from './stats';

const JOBS = 30;
const FULL_JOBS = 24;

/** ms from spawn() to the 'spawn' event of `sh -c true`: what starting a process costs here. */
async function spawnBaseline(runs: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await new Promise<void>((resolve, reject) => {
      const child = spawn('sh', ['-c', 'true'], { stdio: 'ignore', detached: true });
      child.once('spawn', () => out.push(performance.now() - t0));
      child.once('error', reject);
      child.once('exit', () => resolve());
    });
  }
  return out;
}

export async function benchCompute(): Promise<void> {
  const events: BatchJobStateChange[] = [];
  const stack = await startLocalStack({
    rateLimits: ROOMY_RATE_LIMITS,
    port: 0,
    dataDir: null,
    gpus: 8,
    policy: { trialGpuSeconds: 1_000_000 },
    computeEvents: (event) => {
      events.push(event);
      return [event];
    },
  });
  try {
    const signup = await apiClient(stack.url).post('/v1/signup', { email: 'bench-compute@example.com' });
    const api = apiClient(stack.url, signup.body.api_key);
    const firstOf = (jobId: string, status: string) => events.find((e) => e.detail.jobName === jobId && e.detail.status === status);

    // 1. Pool not full: one job at a time.
    const latencies: number[] = [];
    for (let i = 0; i < JOBS; i++) {
      const created = await api.post('/v1/jobs', { image: 'bench/run:1', command: ['true'], gpu_count: 1, max_runtime_seconds: 60 });
      const answeredAt = Date.now();
      if (created.status !== 201) throw new Error(`submit failed: ${JSON.stringify(created.body)}`);
      const running = await eventually(async () => firstOf(created.body.id, 'RUNNING'), 30_000, 'RUNNING');
      latencies.push(running.detail.startedAt! - answeredAt);
      await eventually(async () => (await api.get(`/v1/jobs/${created.body.id}`)).body.status === 'succeeded', 30_000, 'the job to succeed');
    }
    const baseline = await spawnBaseline(JOBS);
    console.log(
      `submit → RUNNING, pool not full (${JOBS} jobs): p50 ${fmt(percentile(latencies, 50))} ms, p99 ${fmt(percentile(latencies, 99))} ms; ` +
        `baseline process spawn p50 ${fmt(percentile(baseline, 50), 1)} ms; ratio ${fmt(percentile(latencies, 50) / percentile(baseline, 50), 1)}`,
    );

    // 2. Pool full: 24 × 2 GPUs on 8 GPUs, each running ~1 s.
    const ids: string[] = [];
    for (let i = 0; i < FULL_JOBS; i++) {
      const created = await api.post('/v1/jobs', { image: 'bench/run:1', command: ['sleep', '1'], gpu_count: 2, max_runtime_seconds: 60 });
      ids.push(created.body.id);
    }
    await eventually(async () => ids.every((id) => firstOf(id, 'SUCCEEDED')), 120_000, 'every job to succeed');
    const startOrder = events.filter((e) => e.detail.status === 'RUNNING' && ids.includes(e.detail.jobName)).map((e) => e.detail.jobName);
    // Submission order is the order of the dispatcher's SubmitJob (SUBMITTED), which is what the pool honours.
    const submitOrder = events.filter((e) => e.detail.status === 'SUBMITTED' && ids.includes(e.detail.jobName)).map((e) => e.detail.jobName);
    // A waiting job starts when a running one ends: GPUs idle from the latest end before a start to that start.
    const ends = ids.map((id) => firstOf(id, 'SUCCEEDED')!.detail.stoppedAt!).sort((a, b) => a - b);
    const handoffs = submitOrder.slice(4).map((id) => {
      const startedAt = firstOf(id, 'RUNNING')!.detail.startedAt!;
      return startedAt - ends.filter((end) => end <= startedAt).at(-1)!;
    });
    const sameOrder = startOrder.every((id, i) => id === submitOrder[i]);
    console.log(
      `pool full (${FULL_JOBS} × 2 GPUs on 8): start order = submission order: ${sameOrder ? 'yes' : 'NO'}; ` +
        `GPUs idle while a job waits (finished → next RUNNING): p50 ${fmt(percentile(handoffs, 50), 1)} ms, p99 ${fmt(percentile(handoffs, 99), 1)} ms, max ${fmt(Math.max(...handoffs), 1)} ms; ` +
        `baseline process spawn p50 ${fmt(percentile(baseline, 50), 1)} ms; ratio ${fmt(percentile(handoffs, 50) / percentile(baseline, 50), 1)}`,
    );
  } finally {
    await stack.stop({ graceSeconds: 0 });
  }
}

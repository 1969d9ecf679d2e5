import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BatchJobStateChange } from '../../events/batch-state-change';
import { fold, load } from '../../functions/aggregates/aggregate';
import { jobs } from '../../functions/aggregates/jobs';
import { makeHandler } from '../../infra/local/handlers';
import { apiClient, eventually } from '../../infra/local/stack-process';
import { startTestStack, type TestStack } from '../support/local-stack';
import { listActiveJobs, putActiveJob, removeActiveJob } from '../../functions/views/active-jobs';
import type { KnownJobState } from '../../domain/job/job';

/**
 * Fault injection on the local stack: redelivered stream records, lost and late compute events, a
 * Spot reclaim, a job stuck waiting, and the held-time stop across attempts. The sweeps are run by
 * hand (their schedules are set to a day) except the hold enforcer, which ticks 5 times a second.
 */
let stack: TestStack;
/**
 * What happens to each compute event on its way to the bus, by the job's image (known before the
 * job is created, so no event can slip through before the fault is set). Default: delivered.
 */
const faults = new Map<string, (event: BatchJobStateChange) => BatchJobStateChange[]>();
const imageOf = (event: BatchJobStateChange) => (event.detail.container as { image?: string } | undefined)?.image ?? '';
/** Every compute event, delivered or not. */
const seen: BatchJobStateChange[] = [];

const DAY = 86_400;
beforeAll(async () => {
  stack = await startTestStack({
    gpus: 8,
    // 48 trial GPU-seconds: an 8-GPU job is held for 6 s (1 s of grace), a 1-GPU job for 48 s.
    policy: { trialGpuSeconds: 48, stopGraceSeconds: 1, minimumHeldSeconds: 4 },
    scheduleRates: { 'reconcile-jobs': DAY, 'scale-capacity': DAY, 'enforce-holds': 0.2 },
    sweeps: { runnableTimeoutSeconds: 2 },
    computeEvents: (event) => {
      seen.push(event);
      return (faults.get(imageOf(event)) ?? ((e) => [e]))(event);
    },
  });
}, 60_000);

afterAll(async () => {
  await stack?.drop({ graceSeconds: 0 });
}, 60_000);

let emails = 0;
async function signUp() {
  const res = await apiClient(stack.url).post('/v1/signup', { email: `faults${++emails}@example.com` });
  return apiClient(stack.url, res.body.api_key);
}
const jobState = async (jobId: string) => (await load(stack.deps.store, jobs, jobId)).state;
const jobEventTypes = async (jobId: string) => (await load(stack.deps.store, jobs, jobId)).events.map((e) => e.event.type);
const reconcile = () => makeHandler('reconcile-jobs', stack.deps)({});
const untilFinal = (api: ReturnType<typeof apiClient>, id: string, ms = 20_000) =>
  eventually(async () => {
    const res = await api.get(`/v1/jobs/${id}`);
    return ['succeeded', 'failed', 'cancelled'].includes(res.body.status) && res.body;
  }, ms, `job ${id} to finish`);

describe('the local stack under faults', () => {
  it('runs one job process when the same JobQueued record is delivered three more times, at once', async () => {
    const api = await signUp();
    const created = await api.post('/v1/jobs', {
      image: 'a/b:1',
      command: ['sh', '-c', 'echo $$ >> "$SX_OUTPUT_DIR/pids"; sleep 0.5'],
      gpu_count: 1,
      max_runtime_seconds: 60,
    });
    expect(created.status).toBe(201);
    const { Item } = await stack.deps.doc.send(new GetCommand({ TableName: stack.deps.tables.events, Key: { pk: `job#${created.body.id}`, sk: '0000000001' } }));
    const record = { eventID: '1', eventName: 'INSERT', eventSource: 'aws:dynamodb', dynamodb: { SequenceNumber: '1', NewImage: marshall(Item!, { removeUndefinedValues: true }) } };
    const dispatch = makeHandler('dispatch-jobs', stack.deps);

    const results = await Promise.all([1, 2, 3].map(() => dispatch({ Records: [record] })));

    expect(results).toEqual([{ batchItemFailures: [] }, { batchItemFailures: [] }, { batchItemFailures: [] }]);
    const job = await untilFinal(api, created.body.id);
    expect(job.status).toBe('succeeded');
    const pids = readFileSync(fileURLToPath(`${job.output_uri}pids`), 'utf8').trim().split('\n');
    expect(pids).toHaveLength(1);
    expect((await jobEventTypes(job.id)).filter((t) => t === 'BatchJobSubmitted')).toHaveLength(1);
    expect(seen.filter((e) => e.detail.jobName === job.id && e.detail.status === 'SUBMITTED')).toHaveLength(1);
  });

  it('recovers a dropped state-change event with the reconciler, billed as Batch reports', async () => {
    const api = await signUp();
    const before = (await api.get('/v1/account')).body.trial.gpu_seconds_remaining;
    // RUNNING and SUCCEEDED never reach the bus.
    faults.set('faults/drop-running:1', (e) => (e.detail.status === 'RUNNING' || e.detail.status === 'SUCCEEDED' ? [] : [e]));
    const created = await api.post('/v1/jobs', { image: 'faults/drop-running:1', command: ['sh', '-c', 'sleep 1.1'], gpu_count: 1, max_runtime_seconds: 60 });
    const final = await eventually(async () => seen.find((e) => e.detail.jobName === created.body.id && e.detail.status === 'SUCCEEDED'), 20_000, 'the process to end');
    await new Promise((r) => setTimeout(r, 300));
    expect((await jobState(created.body.id)).status).toBe('starting');
    await eventually(async () => (await listActiveJobs(stack.deps)).some((a) => a.state.job.jobId === created.body.id), 10_000, 'the active-jobs view');

    const report = await reconcile();

    expect(report.recovered).toBeGreaterThanOrEqual(1);
    const job = (await api.get(`/v1/jobs/${created.body.id}`)).body;
    const ranMs = final.detail.stoppedAt! - final.detail.startedAt!;
    expect(job).toMatchObject({ status: 'succeeded', usage: { gpu_seconds: Math.ceil(ranMs / 1000) } });
    expect((await api.get('/v1/account')).body).toMatchObject({ trial: { gpu_seconds_remaining: before - job.usage.gpu_seconds }, held: { gpu_seconds: 0 } });
    // And the finished job leaves the active set, so the next sweep does not look at it again.
    await eventually(async () => !(await listActiveJobs(stack.deps)).some((a) => a.state.job.jobId === job.id), 10_000, 'the job to leave the active set');
  });

  it('recovers a lost final event in one sweep while the active-jobs view still shows the job without its compute job', async () => {
    // What a crash left in the crash test (test/e2e/crash-restart.test.ts): the job's final
    // state-change event lost with the bus, its stream at JobRunning, and the active-jobs view,
    // whose projection had not caught up yet, still at JobQueued (queued, no compute job).
    const api = await signUp();
    faults.set('faults/lost-final:1', (e) => (e.detail.status === 'SUCCEEDED' ? [] : [e]));
    const created = await api.post('/v1/jobs', { image: 'faults/lost-final:1', command: ['sh', '-c', 'sleep 0.3'], gpu_count: 1, max_runtime_seconds: 60 });
    const id = created.body.id as string;
    const final = await eventually(async () => seen.find((e) => e.detail.jobName === id && e.detail.status === 'SUCCEEDED'), 20_000, 'the process to end');
    const loaded = await eventually(async () => {
      const job = await load(stack.deps.store, jobs, id);
      return job.state.status === 'running' && job;
    }, 10_000, 'JobRunning');
    await eventually(async () => (await listActiveJobs(stack.deps)).find((a) => a.state.job.jobId === id)?.version === loaded.version, 10_000, 'the active-jobs view');
    const asQueued = fold(jobs, jobs.initialState(), [loaded.events[0]!.event]) as KnownJobState;
    expect(asQueued).toMatchObject({ status: 'queued', batchJobId: null });
    await removeActiveJob(stack.deps, id);
    await putActiveJob(stack.deps, asQueued, 1);

    const report = await reconcile();

    expect(report.recovered).toBeGreaterThanOrEqual(1);
    const job = (await api.get(`/v1/jobs/${id}`)).body;
    expect(job).toMatchObject({ status: 'succeeded', usage: { gpu_seconds: Math.ceil((final.detail.stoppedAt! - final.detail.startedAt!) / 1000) } });
    expect((await api.get('/v1/account')).body).toMatchObject({ held: { gpu_seconds: 0 } });
    expect(report.redispatched).toBe(0);
    expect((await jobEventTypes(id)).filter((t) => t === 'BatchJobSubmitted')).toHaveLength(1);
  });

  it('changes nothing when a RUNNING event arrives after the final one', async () => {
    const api = await signUp();
    const created = await api.post('/v1/jobs', { image: 'a/b:1', command: ['true'], gpu_count: 1, max_runtime_seconds: 60 });
    const job = await untilFinal(api, created.body.id);
    const history = await jobEventTypes(job.id);
    const account = (await api.get('/v1/account')).body;
    const running = seen.find((e) => e.detail.jobName === job.id && e.detail.status === 'RUNNING')!;

    await makeHandler('batch-events', stack.deps)(running);
    await makeHandler('batch-events', stack.deps)({ ...running, id: 'another-delivery' });

    expect(await jobEventTypes(job.id)).toEqual(history);
    expect((await api.get(`/v1/jobs/${job.id}`)).body).toEqual(job);
    expect((await api.get('/v1/account')).body).toEqual(account);
  });

  it('retries an attempt lost to a Spot reclaim from its checkpoint, same job, every attempt billed once', async () => {
    const api = await signUp();
    // The first attempt checkpoints and waits; the second finds the checkpoint and finishes.
    const created = await api.post('/v1/jobs', {
      image: 'a/b:1',
      command: ['sh', '-c', 'if [ -f "$SX_CHECKPOINT_DIR/step" ]; then echo "resumed $SX_JOB_ID"; sleep 0.3; else echo 1 > "$SX_CHECKPOINT_DIR/step"; sleep 30; fi'],
      gpu_count: 1,
      max_runtime_seconds: 60,
    });
    const id = created.body.id;
    await eventually(async () => (await api.get(`/v1/jobs/${id}`)).body.status === 'running', 10_000, 'running');
    await new Promise((r) => setTimeout(r, 700));
    const { batchJobId } = (await jobState(id)) as { batchJobId: string };

    expect(stack.compute.interrupt(batchJobId)).toBe(true);

    const job = await untilFinal(api, id);
    expect(job.status).toBe('succeeded');
    const types = (await api.get(`/v1/jobs/${id}/events`)).body.data.map((e: { type: string }) => e.type);
    expect(types).toEqual(['job.queued', 'job.starting', 'job.running', 'job.attempt_failed', 'job.running', 'job.succeeded']);
    expect((await api.get(`/v1/jobs/${id}/logs`)).body).toBe(`resumed ${id}\n`);
    // Billed: both attempts' running milliseconds, summed, rounded up once.
    const [described] = await stack.compute.describe([batchJobId]);
    expect(described!.detail.attempts).toHaveLength(2);
    expect(described!.detail.attempts![0]!.statusReason).toMatch(/^Host EC2 \(instance i-local\d+\) terminated\.$/);
    const ms = described!.detail.attempts!.reduce((sum, a) => sum + (a.stoppedAt! - a.startedAt!), 0);
    expect(job.usage.gpu_seconds).toBe(Math.ceil(ms / 1000));
    expect((await api.get('/v1/account')).body.trial.gpu_seconds_remaining).toBe(48 - job.usage.gpu_seconds);
  });

  it('stops a retried job when its attempts together reach the held time minus grace, never past the hold', async () => {
    const api = await signUp();
    // 8 GPUs on 48 trial GPU-seconds: held 6 s, SIGTERM due after 5 s of running in all.
    const created = await api.post('/v1/jobs', { image: 'a/b:1', command: ['sleep', '60'], gpu_count: 8, max_runtime_seconds: 3600 });
    expect(created.body.held_seconds).toBe(6);
    const id = created.body.id;
    await eventually(async () => (await api.get(`/v1/jobs/${id}`)).body.status === 'running', 10_000, 'running');
    await new Promise((r) => setTimeout(r, 3000));
    const { batchJobId } = (await jobState(id)) as { batchJobId: string };
    stack.compute.interrupt(batchJobId);

    // The second attempt's own timeout would allow 5 s more; the enforcer counts both attempts.
    const job = await untilFinal(api, id);
    expect(job).toMatchObject({ status: 'failed', failure_reason: 'insufficient_balance', status_reason: 'sx:insufficient_balance' });
    expect(job.usage.gpu_seconds).toBeLessThanOrEqual(6 * 8);
    expect(job.usage.gpu_seconds).toBeGreaterThanOrEqual(5 * 8);
    expect((await api.get('/v1/account')).body).toMatchObject({ trial: { gpu_seconds_remaining: 48 - job.usage.gpu_seconds }, held: { gpu_seconds: 0 } });
  });

  it('fails a job stuck waiting for capacity with infrastructure, at no charge, and lets the pool go on', async () => {
    // Four 2-GPU jobs fill the 8 GPUs for 23 s (each account's trial holds 24 s of 2 GPUs).
    const blockers = await Promise.all(
      [1, 2, 3, 4].map(async () => {
        const api = await signUp();
        const created = await api.post('/v1/jobs', { image: 'a/b:1', command: ['sleep', '60'], gpu_count: 2, max_runtime_seconds: 3600 });
        return { api, id: created.body.id as string };
      }),
    );
    for (const { api, id } of blockers) await eventually(async () => (await api.get(`/v1/jobs/${id}`)).body.status === 'running', 15_000, 'running');
    const other = await signUp();
    const stuck = await other.post('/v1/jobs', { image: 'a/b:1', command: ['true'], gpu_count: 1, max_runtime_seconds: 60 });
    await eventually(async () => (await listActiveJobs(stack.deps)).find((a) => a.state.job.jobId === stuck.body.id && a.state.batchJobId), 10_000, 'the stuck job in the active set');
    await new Promise((r) => setTimeout(r, 2100));

    const report = await reconcile();

    expect(report.failed).toBeGreaterThanOrEqual(1);
    const job = (await other.get(`/v1/jobs/${stuck.body.id}`)).body;
    expect(job).toMatchObject({ status: 'failed', failure_reason: 'infrastructure', usage: { gpu_seconds: 0 }, started_at: null });
    expect((await other.get('/v1/account')).body).toMatchObject({ trial: { gpu_seconds_remaining: 48 }, held: { gpu_seconds: 0 } });
    expect(stack.compute.queuedJobs()).not.toContain(stuck.body.id);
    // The blockers were left alone.
    for (const { api, id } of blockers) {
      expect((await api.get(`/v1/jobs/${id}`)).body.status).toBe('running');
      await api.post(`/v1/jobs/${id}/cancel`);
      await untilFinal(api, id);
    }
  });

  it('keeps the capacity floor at the demand of queued and running jobs', async () => {
    const api = await signUp();
    const created = await api.post('/v1/jobs', { image: 'a/b:1', command: ['sleep', '60'], gpu_count: 2, max_runtime_seconds: 60 });
    await eventually(async () => (await listActiveJobs(stack.deps)).some((a) => a.state.job.jobId === created.body.id), 10_000, 'the active set');

    const first = await makeHandler('scale-capacity', stack.deps)({});
    const again = await makeHandler('scale-capacity', stack.deps)({});

    // 2 GPUs need a whole p4d node's 96 vCPUs as the floor; the local pool reports 8 × 12 at most.
    expect(first.resized).toEqual([{ pool: 'sx-local-gpu', minvCpus: 96, desiredvCpus: 96 }]);
    expect(again.resized).toEqual([]);
    expect((await stack.compute.pools())[0]).toMatchObject({ minvCpus: 96, desiredvCpus: 96 });
    await api.post(`/v1/jobs/${created.body.id}/cancel`);
    await untilFinal(api, created.body.id);
  });
});

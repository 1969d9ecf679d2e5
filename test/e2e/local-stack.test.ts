import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, eventually, startStackProcess, type StackProcess } from '../../infra/local/stack-process';

const FINAL = ['succeeded', 'failed', 'cancelled'];
let stack: StackProcess;

beforeAll(async () => {
  stack = await startStackProcess();
}, 150_000); // DynamoDB Local alone is allowed 90 s to start on a loaded machine.

afterAll(async () => {
  // Graceful shutdown is part of the contract: SIGTERM stops it cleanly with exit code 0.
  expect(await stack?.stop()).toBe(0);
}, 90_000);

async function signUp(email: string) {
  const res = await apiClient(stack.url).post('/v1/signup', { email });
  expect(res.status).toBe(201);
  return { ...res.body, api: apiClient(stack.url, res.body.api_key) };
}

const waitFinal = (api: ReturnType<typeof apiClient>, id: string, timeoutMs: number) =>
  eventually(async () => {
    const res = await api.get(`/v1/jobs/${id}`);
    return FINAL.includes(res.body.status) && res.body;
  }, timeoutMs, `job ${id} to finish`);

describe('the local stack, over HTTP', () => {
  it.concurrent('runs a job on the trial to success, with its events and logs, and bills exactly the seconds it ran', async () => {
    // Given an account with the trial
    const { api, account } = await signUp('ada@example.com');
    expect((await api.get('/v1/account')).body.trial).toMatchObject({ gpu_type: 'a100', gpu_seconds_remaining: 300 });

    // When it submits a job that prints and exits 0
    const created = await api.post('/v1/jobs', {
      name: 'hello',
      image: 'ghcr.io/acme/hello:1',
      command: ['sh', '-c', 'echo "training $SX_JOB_ID"; test -d "$SX_OUTPUT_DIR" && test -d "$SX_CHECKPOINT_DIR" && sleep 1.2 && echo done'],
      gpu_count: 2,
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ status: 'queued', gpu_count: 2, gpu_type: 'a100', name: 'hello', started_at: null });

    // Then it succeeds
    const job = await waitFinal(api, created.body.id, 30_000);
    expect(job).toMatchObject({ status: 'succeeded', failure_reason: null, exit_code: 0 });
    expect(job.output_uri).toMatch(/^file:\/\//);
    const ranMs = Date.parse(job.finished_at) - Date.parse(job.started_at);
    expect(job.usage.gpu_seconds).toBe(Math.ceil(ranMs / 1000) * 2);
    expect(job.usage).toMatchObject({ trial_gpu_seconds: job.usage.gpu_seconds, cost: { amount: 0, currency: 'CNY' } });

    // And its history and output are there
    const events = await api.get(`/v1/jobs/${job.id}/events`);
    expect(events.body.data.map((e: { type: string }) => e.type)).toEqual(['job.queued', 'job.starting', 'job.running', 'job.succeeded']);
    const logs = await api.get(`/v1/jobs/${job.id}/logs`);
    expect(logs.type).toMatch(/^text\/plain/);
    expect(logs.body).toBe(`training ${job.id}\ndone\n`);

    // And the trial lost exactly the seconds billed, with nothing left held
    const balance = (await api.get('/v1/account')).body;
    expect(balance).toMatchObject({ id: account.id, trial: { gpu_seconds_remaining: 300 - job.usage.gpu_seconds }, held: { gpu_seconds: 0 } });

    // And the list shows it (the list is a projection, so it may lag a moment)
    await eventually(async () => (await api.get('/v1/jobs')).body.data.find((j: { id: string; status: string }) => j.id === job.id && j.status === 'succeeded'), 10_000, 'the job in the list');
  });

  it.concurrent('stops a job when the trial runs out, fails it with insufficient_balance, and leaves the trial at zero', async () => {
    // Given a fresh trial (300 GPU-seconds) and a 5-GPU job that would run for an hour and ignores SIGTERM
    const { api } = await signUp('grace@example.com');
    const created = await api.post('/v1/jobs', {
      image: 'ghcr.io/acme/forever:1',
      command: ['sh', '-c', "trap '' TERM; echo started; while :; do sleep 1; done"],
      gpu_count: 5,
      max_runtime_seconds: 3600,
    });
    expect(created.status).toBe(201);
    // The trial pays for 60 s of 5 GPUs: that is what is held.
    expect(created.body.held_seconds).toBe(60);
    expect((await api.get('/v1/account')).body).toMatchObject({ trial: { gpu_seconds_remaining: 0 }, held: { gpu_seconds: 300 } });

    // And meanwhile nothing else can be started on this account
    const refused = await api.post('/v1/jobs', { image: 'a/b:1', command: ['true'], gpu_count: 1 });
    expect(refused.status).toBe(402);
    expect(refused.body.type).toBe('insufficient_balance');

    // When its held time runs out (SIGTERM at 30 s, SIGKILL at 60 s)
    const job = await waitFinal(api, created.body.id, 120_000);

    // Then it failed for insufficient balance, billed exactly what was held, and the trial is at zero, never below
    expect(job).toMatchObject({ status: 'failed', failure_reason: 'insufficient_balance', usage: { gpu_seconds: 300, trial_gpu_seconds: 300 } });
    expect((await api.get('/v1/account')).body).toMatchObject({ trial: { gpu_seconds_remaining: 0, gpu_seconds_used: 300 }, held: { gpu_seconds: 0 } });
  }, 150_000);

  it.concurrent('cancels a running job and charges only the seconds it ran', async () => {
    const { api } = await signUp('hopper@example.com');
    const created = await api.post('/v1/jobs', { image: 'a/b:1', command: ['sleep', '600'], gpu_count: 1 });
    await eventually(async () => (await api.get(`/v1/jobs/${created.body.id}`)).body.status === 'running', 20_000, 'running');
    await new Promise((r) => setTimeout(r, 1500));

    const cancelled = await api.post(`/v1/jobs/${created.body.id}/cancel`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.cancel_requested_at).not.toBeNull();

    const job = await waitFinal(api, created.body.id, 60_000);
    expect(job.status).toBe('cancelled');
    // Billed exactly the seconds it ran, which ended after the cancel was asked for and long before
    // the 600 s the command would have slept: the cancel stopped it.
    const ranMs = Date.parse(job.finished_at) - Date.parse(job.started_at);
    expect(job.usage.gpu_seconds).toBe(Math.ceil(ranMs / 1000));
    expect(Date.parse(job.finished_at)).toBeGreaterThanOrEqual(Date.parse(cancelled.body.cancel_requested_at));
    expect(job.usage.gpu_seconds).toBeLessThan(job.held_seconds);
    expect((await api.get('/v1/account')).body.trial.gpu_seconds_remaining).toBe(300 - job.usage.gpu_seconds);

    // A final job cannot be cancelled again
    const again = await api.post(`/v1/jobs/${job.id}/cancel`);
    expect(again.status).toBe(409);
    expect(again.body.type).toBe('invalid_state');
  });

  it.concurrent('answers bad input with problem+json, writes nothing, and never a 5xx', async () => {
    const anonymous = apiClient(stack.url);
    const { api, account } = await signUp('lin@example.com');
    const other = await signUp('mo@example.com');
    const theirs = await other.api.post('/v1/jobs', { image: 'a/b:1', command: ['true'], gpu_count: 1 });

    const cases: Array<[string, Promise<{ status: number; type: string; body: any }>, number, string]> = [
      ['malformed JSON', api.post('/v1/jobs', '{"image":'), 400, 'invalid_request'],
      ['wrong types', api.post('/v1/jobs', { image: 1, command: 'python', gpu_count: '1' }), 400, 'invalid_request'],
      ['gpu_count 9', api.post('/v1/jobs', { image: 'a/b:1', command: ['true'], gpu_count: 9 }), 400, 'invalid_request'],
      ['gpu_count 0', api.post('/v1/jobs', { image: 'a/b:1', command: ['true'], gpu_count: 0 }), 400, 'invalid_request'],
      ['unknown field', api.post('/v1/jobs', { image: 'a/b:1', command: ['true'], gpu_count: 1, gpus: 2 }), 400, 'invalid_request'],
      ['max_runtime too short', api.post('/v1/jobs', { image: 'a/b:1', command: ['true'], gpu_count: 1, max_runtime_seconds: 59 }), 400, 'invalid_request'],
      ['too large', api.post('/v1/jobs', { image: 'a/b:1', command: ['x'.repeat(70_000)], gpu_count: 1 }), 413, 'payload_too_large'],
      ['unknown job', api.get('/v1/jobs/job_01aaaaaaaaaaaaaaaaaaaaaaaa'), 404, 'not_found'],
      ['malformed job id', api.get('/v1/jobs/nope'), 404, 'not_found'],
      ["another account's job", api.get(`/v1/jobs/${theirs.body.id}`), 404, 'not_found'],
      ["cancelling another account's job", api.post(`/v1/jobs/${theirs.body.id}/cancel`), 404, 'not_found'],
      ["another account's logs", api.get(`/v1/jobs/${theirs.body.id}/logs`), 404, 'not_found'],
      ['no key', anonymous.get('/v1/account'), 401, 'unauthorized'],
      ['wrong key', apiClient(stack.url, 'sk_01aaaaaaaaaaaaaaaaaaaaaaaa_' + 'A'.repeat(43)).get('/v1/jobs'), 401, 'unauthorized'],
      ['garbage key', apiClient(stack.url, 'hunter2').post('/v1/jobs', { image: 'a/b:1', command: ['true'], gpu_count: 1 }), 401, 'unauthorized'],
      ['bad email', anonymous.post('/v1/signup', { email: 'not-an-email' }), 400, 'invalid_request'],
      ['same email again, other case', anonymous.post('/v1/signup', { email: 'LIN@example.com' }), 409, 'conflict'],
      ['bad list limit', api.get('/v1/jobs?limit=500'), 400, 'invalid_request'],
      ['bad cursor', api.get('/v1/jobs?cursor=zzz'), 400, 'invalid_request'],
      ['unknown route', api.get('/v1/nope'), 404, 'not_found'],
    ];
    for (const [name, pending, status, type] of cases) {
      const res = await pending;
      expect({ name, status: res.status, type: res.body.type, contentType: res.type }).toEqual({ name, status, type, contentType: 'application/problem+json' });
    }
    const gpuCount = await api.post('/v1/jobs', { image: 'a/b:1', command: ['true'], gpu_count: 9 });
    expect(gpuCount.body.errors).toEqual([expect.objectContaining({ path: 'gpu_count' })]);

    // Nothing was written for the rejected requests
    expect((await api.get('/v1/account')).body).toMatchObject({ id: account.id, trial: { gpu_seconds_remaining: 300 }, held: { gpu_seconds: 0 } });
    await new Promise((r) => setTimeout(r, 500));
    expect((await api.get('/v1/jobs')).body.data).toEqual([]);
  });
});

import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, eventually } from '../../infra/local/stack-process';
import { startLocalStack, type LocalStack } from '../../infra/local/stack';
import { WebhookRunner } from '../../functions/webhooks/runner';
import { getDelivery, makeDueNow } from '../../functions/webhooks/deliveries';
import { testDynamoEndpoint } from '../support/dynamodb';
import { Receiver, type Received } from '../support/webhook-receiver';

let stack: LocalStack;
const receiver = new Receiver();

beforeAll(async () => {
  await receiver.start();
  stack = await startLocalStack({
    port: 0,
    dataDir: null,
    dynamoEndpoint: testDynamoEndpoint(),
    tablePrefix: `sx-wh-${randomBytes(4).toString('hex')}`,
    // The retry clock, accelerated: the whole 10-attempt schedule takes ~5 s, and an endpoint failing
    // 4 attempts in a row over 2 s counts as "failing for 5 days".
    webhooks: { retryDelaysSeconds: [0.2, 0.2, 0.3, 0.3, 0.5, 0.5, 1, 1, 1], disableAfterSeconds: 2, disableAfterFailures: 4, timeoutMs: 2_000 },
    scheduleRates: { 'send-webhooks': 0.25 },
    policy: { stopGraceSeconds: 1 },
  });
}, 60_000);

afterAll(async () => {
  await stack?.stop({ graceSeconds: 1 });
  await receiver.close();
}, 60_000);

async function signUp() {
  const res = await apiClient(stack.url).post('/v1/signup', { email: `wh-${randomBytes(4).toString('hex')}@example.com` });
  expect(res.status).toBe(201);
  return apiClient(stack.url, res.body.api_key);
}

type Api = Awaited<ReturnType<typeof signUp>>;
const quickJob = { image: 'a/b:1', command: ['sh', '-c', 'sleep 0.3'], gpu_count: 1, max_runtime_seconds: 60 };

async function addEndpoint(api: Api, url: string, events?: string[]) {
  const res = await api.post('/v1/webhook-endpoints', { url, ...(events ? { events } : {}) });
  expect(res.status).toBe(201);
  expect(res.body.secret).toMatch(/^whsec_/);
  return res.body as { id: string; secret: string };
}

const verify = (secret: string, r: Received) => new Webhook(secret).verify(r.body, r.headers as Record<string, string>) as { type: string; timestamp: string; data: { job: { id: string; status: string } } };

describe('webhooks on the local stack', { timeout: 150_000 }, () => {
  it.concurrent("delivers a job's lifecycle in order, each signed per Standard Webhooks, once per event", async () => {
    const api = await signUp();
    const hook = receiver.route();
    const endpoint = await addEndpoint(api, hook.url);
    const job = (await api.post('/v1/jobs', quickJob)).body;

    await eventually(async () => hook.got().length >= 4, 60_000, 'four webhooks').catch(async (error) => {
      const log = (await api.get(`/v1/webhook-endpoints/${endpoint.id}/deliveries`)).body;
      throw new Error(`${error.message}; got ${hook.got().length}; job ${JSON.stringify((await api.get(`/v1/jobs/${job.id}`)).body.status)}; log ${JSON.stringify(log)}`);
    });
    const payloads = hook.got().map((r) => verify(endpoint.secret, r));
    expect(payloads.map((p) => p.type)).toEqual(['job.queued', 'job.starting', 'job.running', 'job.succeeded']);
    expect(payloads.map((p) => p.data.job.status)).toEqual(['queued', 'starting', 'running', 'succeeded']);
    expect(payloads.every((p) => p.data.job.id === job.id)).toBe(true);
    expect(new Set(hook.got().map((r) => r.headers['webhook-id'])).size).toBe(4);
    expect(hook.got().every((r) => Buffer.byteLength(r.body) < 20_000)).toBe(true);
    // A wrong secret does not verify.
    expect(() => verify(`whsec_${randomBytes(32).toString('base64')}`, hook.got()[0]!)).toThrow();

    // The delivery log shows each, succeeded at the first attempt.
    const log = await api.get(`/v1/webhook-endpoints/${endpoint.id}/deliveries`);
    expect(log.status).toBe(200);
    expect(log.body.data.map((d: { event_type: string }) => d.event_type)).toEqual(['job.succeeded', 'job.running', 'job.starting', 'job.queued']);
    expect(log.body.data.every((d: any) => d.status === 'succeeded' && d.attempts.length === 1 && d.attempts[0].status_code === 200)).toBe(true);
    expect(log.body.data.map((d: { id: string }) => d.id)).toEqual(hook.got().map((r) => r.headers['webhook-id']).reverse());
    // The event ids are the job's own event ids.
    const events = (await api.get(`/v1/jobs/${job.id}/events`)).body.data.map((e: { id: string }) => e.id);
    expect(log.body.data.map((d: { event_id: string }) => d.event_id).reverse()).toEqual(events);

    // A redelivered stream record sends nothing new.
    const runner = new WebhookRunner(stack.deps);
    const { events: stored } = await stack.deps.store.readStream(`job#${job.id}`);
    for (const e of stored) expect(await runner.fanOut(e)).toEqual([]);
    await runner.close();
    // A lane's predecessor finishing late (a sweep sent its successor meanwhile) does not send that again.
    const sent = log.body.data[0].id as string;
    expect(await makeDueNow(stack.deps, endpoint.id, sent, new Date().toISOString(), { onlyPending: true })).toBe(false);
    expect(await getDelivery(stack.deps, endpoint.id, sent)).toMatchObject({ status: 'succeeded' });
    await new Promise((r) => setTimeout(r, 500));
    expect(hook.got()).toHaveLength(4);
  });

  it.concurrent('retries a failing receiver with the same webhook-id until it succeeds, and keeps later events of the job behind it', async () => {
    const api = await signUp();
    const hook = receiver.route((count) => ({ status: count <= 2 ? 500 : 200 }));
    const endpoint = await addEndpoint(api, hook.url);
    await api.post('/v1/jobs', quickJob);

    await eventually(async () => hook.got().filter((r) => verify(endpoint.secret, r).type === 'job.succeeded').length === 1, 60_000, 'job.succeeded');
    const got = hook.got();
    const first = got[0]!.headers['webhook-id'];
    expect(got.slice(0, 3).map((r) => r.headers['webhook-id'])).toEqual([first, first, first]);
    // The retries are signed at their own time, over the same id and body.
    expect(got.slice(0, 3).every((r) => r.body === got[0]!.body)).toBe(true);
    // Order of occurrence holds: the later events waited for the retried one.
    expect(got.slice(2).map((r) => verify(endpoint.secret, r).type)).toEqual(['job.queued', 'job.starting', 'job.running', 'job.succeeded']);

    const log = (await api.get(`/v1/webhook-endpoints/${endpoint.id}/deliveries`)).body.data;
    const queued = log.find((d: { event_type: string }) => d.event_type === 'job.queued');
    expect(queued).toMatchObject({ id: first, status: 'succeeded', attempt_count: 3, next_attempt_at: null });
    expect(queued.attempts.map((a: { status_code: number }) => a.status_code)).toEqual([500, 500, 200]);
    expect(queued.attempts.every((a: { duration_ms: number }) => a.duration_ms >= 0)).toBe(true);
  });

  it.concurrent('disables an endpoint that answers 410 Gone, visibly, and sends it nothing more', async () => {
    const api = await signUp();
    const hook = receiver.route(() => ({ status: 410 }));
    const endpoint = await addEndpoint(api, hook.url);
    await api.post('/v1/jobs', quickJob);

    const disabled = await eventually(async () => {
      const res = await api.get(`/v1/webhook-endpoints/${endpoint.id}`);
      return res.body.status === 'disabled' && res.body;
    }, 60_000, 'the endpoint disabled');
    expect(disabled).toMatchObject({ disabled_reason: 'gone' });
    expect((await api.get('/v1/webhook-endpoints')).body.data[0]).toMatchObject({ id: endpoint.id, status: 'disabled' });
    await new Promise((r) => setTimeout(r, 2_000));
    expect(hook.got()).toHaveLength(1);
    const log = (await api.get(`/v1/webhook-endpoints/${endpoint.id}/deliveries?status=failed`)).body.data;
    expect(log.find((d: { event_type: string }) => d.event_type === 'job.queued')).toMatchObject({ status: 'failed', failure_reason: 'endpoint_gone' });

    // Enabling it again lets a delivery be retried by hand.
    expect((await api.post(`/v1/webhook-endpoints/${endpoint.id}/enable`)).body.status).toBe('enabled');
  });

  it.concurrent('counts a 301 as a failure without following it, and disables an endpoint that fails every attempt for too long', async () => {
    const api = await signUp();
    const target = receiver.route();
    const hook = receiver.route(() => ({ status: 301, headers: { location: target.url } }));
    const endpoint = await addEndpoint(api, hook.url, ['job.queued']);
    await api.post('/v1/jobs', quickJob);

    await eventually(async () => hook.got().length >= 2, 60_000, 'a retry');
    const log = (await api.get(`/v1/webhook-endpoints/${endpoint.id}/deliveries`)).body.data;
    expect(log[0].attempts[0]).toMatchObject({ status_code: 301, error: null });
    expect(target.got()).toHaveLength(0);

    // Failing every attempt for longer than disableAfterSeconds (2 s here, 5 days in AWS) disables it.
    const disabled = await eventually(async () => {
      const res = await api.get(`/v1/webhook-endpoints/${endpoint.id}`);
      return res.body.status === 'disabled' && res.body;
    }, 60_000, 'the endpoint disabled for failing');
    expect(disabled.disabled_reason).toBe('failing');
  });

  it.concurrent('retries a delivery by hand with the same id, and signs with both secrets while a rotation overlaps', async () => {
    const api = await signUp();
    const hook = receiver.route();
    const endpoint = await addEndpoint(api, hook.url, ['job.queued']);
    await api.post('/v1/jobs', quickJob);
    await eventually(async () => hook.got().length === 1, 60_000, 'the first delivery');

    const rotated = await api.post(`/v1/webhook-endpoints/${endpoint.id}/rotate-secret`, { expire_previous_in_seconds: 3600 });
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(rotated.body.secret).not.toBe(endpoint.secret);
    expect(rotated.body.previous_secret_expires_at).not.toBeNull();

    const [delivery] = (await api.get(`/v1/webhook-endpoints/${endpoint.id}/deliveries`)).body.data;
    const retried = await api.post(`/v1/webhook-endpoints/${endpoint.id}/deliveries/${delivery.id}/retry`);
    expect(retried.status).toBe(202);
    expect(retried.body.status).toBe('pending');
    await eventually(async () => hook.got().length === 2, 60_000, 'the manual retry');
    const again = hook.got()[1]!;
    expect(again.headers['webhook-id']).toBe(delivery.id);
    expect(String(again.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(verify(endpoint.secret, again).type).toBe('job.queued');
    expect(verify(rotated.body.secret, again).type).toBe('job.queued');
    await eventually(async () => (await api.get(`/v1/webhook-endpoints/${endpoint.id}/deliveries`)).body.data[0].attempt_count === 2, 5_000, 'the log');
  });

  it.concurrent('refuses unsafe URLs, keeps endpoints to their account, and deletes them', async () => {
    const api = await signUp();
    const other = await signUp();
    for (const url of ['http://example.com/hook', 'https://10.0.0.1/hook', 'http://127.0.0.2:8080/', 'http://[::1]:8080/', 'https://169.254.169.254/latest', 'http://user:pw@127.0.0.1:9/', 'ftp://127.0.0.1/', 'not a url']) {
      const res = await api.post('/v1/webhook-endpoints', { url });
      expect({ url, status: res.status, type: res.body.type, path: res.body.errors?.[0]?.path }).toEqual({ url, status: 400, type: 'invalid_request', path: 'url' });
    }
    expect((await api.post('/v1/webhook-endpoints', { url: 'http://localhost:9/x', events: ['job.exploded'] })).status).toBe(400);
    expect((await api.post('/v1/webhook-endpoints', { url: 'http://localhost:9/x', extra: 1 })).status).toBe(400);

    const mine = await addEndpoint(api, 'http://localhost:9/x', ['job.succeeded', 'job.failed']);
    const listed = (await api.get('/v1/webhook-endpoints')).body;
    expect(listed.data).toEqual([expect.objectContaining({ id: mine.id, url: 'http://localhost:9/x', events: ['job.succeeded', 'job.failed'], status: 'enabled' })]);
    expect(listed.data[0].secret).toBeUndefined();
    for (const path of [`/v1/webhook-endpoints/${mine.id}`, `/v1/webhook-endpoints/${mine.id}/deliveries`]) {
      const res = await other.get(path);
      expect({ path, status: res.status, type: res.body.type }).toEqual({ path, status: 404, type: 'not_found' });
    }
    expect((await other.request('DELETE', `/v1/webhook-endpoints/${mine.id}`)).status).toBe(404);
    expect((await other.get('/v1/webhook-endpoints')).body.data).toEqual([]);
    expect((await api.request('DELETE', `/v1/webhook-endpoints/${mine.id}`)).status).toBe(204);
    expect((await api.get(`/v1/webhook-endpoints/${mine.id}`)).status).toBe(404);
    expect((await api.get('/v1/webhook-endpoints')).body.data).toEqual([]);
  });
});

describe('webhook delivery across a restart of the local stack', () => {
  it('loses no delivery: a retry scheduled before the stop is sent after the start, with the same webhook-id, honouring Retry-After', async () => {
    const tablePrefix = `sx-wh-${randomBytes(4).toString('hex')}`;
    const options = {
      port: 0,
      dataDir: null,
      dynamoEndpoint: testDynamoEndpoint(),
      tablePrefix,
      webhooks: { retryDelaysSeconds: [0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2], timeoutMs: 2_000 },
      scheduleRates: { 'send-webhooks': 0.25 },
      policy: { stopGraceSeconds: 1 },
    };
    let healthy = false;
    const hook = receiver.route(() => (healthy ? { status: 200 } : { status: 503, headers: { 'retry-after': '2' } }));
    let first: LocalStack | undefined = await startLocalStack(options);
    let second: LocalStack | undefined;
    try {
      const res = await apiClient(first.url).post('/v1/signup', { email: 'restart@example.com' });
      const api = apiClient(first.url, res.body.api_key);
      const endpoint = await addEndpoint(api, hook.url, ['job.queued']);
      await api.post('/v1/jobs', { ...quickJob, command: ['true'] });
      await eventually(async () => hook.got().length >= 2, 60_000, 'two failed attempts');
      // 503 with Retry-After: 2 outweighs the 0.2 s schedule.
      expect(hook.got()[1]!.at - hook.got()[0]!.at).toBeGreaterThanOrEqual(1_900);

      await first.stop({ graceSeconds: 1 });
      first = undefined;
      const before = hook.got().length;
      healthy = true;
      second = await startLocalStack(options);
      const api2 = apiClient(second.url, res.body.api_key);
      await eventually(async () => hook.got().length > before, 60_000, 'the delivery after the restart');
      const ids = new Set(hook.got().map((r) => r.headers['webhook-id']));
      expect(ids.size).toBe(1);
      expect(verify(endpoint.secret, hook.got().at(-1)!).type).toBe('job.queued');
      const [delivery] = (await api2.get(`/v1/webhook-endpoints/${endpoint.id}/deliveries`)).body.data;
      await eventually(async () => (await api2.get(`/v1/webhook-endpoints/${endpoint.id}/deliveries`)).body.data[0].status === 'succeeded', 10_000, 'the log');
      expect(delivery.attempts.slice(0, 2).map((a: { status_code: number }) => a.status_code)).toEqual([503, 503]);
    } finally {
      await first?.stop({ graceSeconds: 1 });
      await second?.stop({ graceSeconds: 1 });
    }
  }, 150_000);
});

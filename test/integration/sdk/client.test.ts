import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../../support/local-stack';
import { SxApiError, SxClient, SxConnectionError, isFinal, verifyWebhook, type Job } from '../../../sdk';
import { eventually } from '../../../infra/local/stack-process';
import { Receiver } from '../../support/webhook-receiver';

let stack: TestStack;
const receiver = new Receiver();

beforeAll(async () => {
  await receiver.start();
  stack = await startTestStack({
    policy: { stopGraceSeconds: 2 },
  });
}, 60_000);

afterAll(async () => {
  await stack?.drop();
  await receiver.close();
}, 60_000);

async function signedUp() {
  const { api_key } = await new SxClient({ baseUrl: stack.url }).signup({ email: `sdk-${randomBytes(4).toString('hex')}@example.com` });
  return new SxClient({ baseUrl: stack.url, apiKey: api_key });
}

describe('SxClient against the local stack', () => {
  it('submits, follows a job to its end with its log in order, and pages through the list', async () => {
    const client = await signedUp();
    expect((await client.account()).trial.gpu_seconds_remaining).toBe(300);

    const job = await client.jobs.create({ image: 'a/b:1', command: ['sh', '-c', 'echo one; sleep 1; echo two'], gpu_count: 1, max_runtime_seconds: 60 });
    expect(job).toMatchObject({ object: 'job', status: 'queued', held_seconds: 62 });

    const updates: Array<{ status: Job['status']; newLogs: string }> = [];
    for await (const { job: seen, newLogs } of client.jobs.follow(job.id, { intervalMs: 200 })) updates.push({ status: seen.status, newLogs });
    expect(updates.at(-1)!.status).toBe('succeeded');
    expect(updates.map((u) => u.newLogs).join('')).toBe('one\ntwo\n');
    expect(updates.filter((u) => isFinal(u)).length).toBe(1);

    const more = [
      await client.jobs.create({ image: 'a/b:1', command: ['true'], gpu_count: 1, max_runtime_seconds: 60 }),
      await client.jobs.create({ image: 'a/b:1', command: ['true'], gpu_count: 1, max_runtime_seconds: 60 }),
    ];
    const expected = [more[1]!.id, more[0]!.id, job.id];
    // The list is a projection and may lag a poll behind; pages of 2 make the iterator follow a cursor.
    let seen: string[] = [];
    for (let i = 0; i < 50 && seen.length < 3; i++) {
      seen = [];
      for await (const listed of client.jobs.listAll({ pageSize: 2 })) seen.push(listed.id);
      if (seen.length < 3) await new Promise((r) => setTimeout(r, 200));
    }
    expect(seen).toEqual(expected);
    const first = await client.jobs.list({ limit: 2 });
    expect(first).toMatchObject({ has_more: true, next_cursor: expect.any(String) });

    const events = await client.jobs.events(job.id);
    expect(events.map((e) => e.type)).toEqual(['job.queued', 'job.starting', 'job.running', 'job.succeeded']);
  }, 60_000);

  it('turns problems into SxApiError with the type, status and invalid fields', async () => {
    const client = await signedUp();
    const invalid = await client.jobs.create({ image: 'a/b:1', command: ['true'], gpu_count: 9 }).catch((e: unknown) => e);
    expect(invalid).toBeInstanceOf(SxApiError);
    expect(invalid).toMatchObject({ status: 400, type: 'invalid_request', request: 'POST /v1/jobs', errors: [expect.objectContaining({ path: 'gpu_count' })] });

    const anonymous = await new SxClient({ baseUrl: stack.url, apiKey: 'sk_wrong' }).account().catch((e: unknown) => e);
    expect(anonymous).toMatchObject({ status: 401, type: 'unauthorized' });
    expect((anonymous as Error).message).toMatch(/^unauthorized \(401\): /);

    const missing = await client.vouchers.redeem('NOPE').catch((e: unknown) => e);
    expect(missing).toMatchObject({ status: 404, type: 'not_found' });
    // An unknown code is a missing resource, not a missing route.
    expect((missing as SxApiError).isMissingRoute).toBe(false);
  });
});

describe('SxClient: vouchers, usage, API keys and webhook endpoints on the real routes', () => {
  const admin = () => new SxClient({ baseUrl: stack.url, apiKey: stack.adminKey });

  it('redeems an admin-made voucher once (a retry with its Idempotency-Key gets the same credit) and reports usage', async () => {
    const client = await signedUp();
    const voucher = await admin().admin.vouchers.create({ amount: { amount: 5_000, currency: 'CNY' } });
    expect(voucher).toMatchObject({ object: 'voucher', code: expect.stringMatching(/^SX-/), max_redemptions: 1 });
    // A customer's key is not the admin's.
    await expect(client.admin.vouchers.create({ amount: { amount: 1, currency: 'CNY' } })).rejects.toMatchObject({ status: 401, type: 'unauthorized' });

    const { credit } = await client.vouchers.redeem(voucher.code, { idempotencyKey: 'redeem-1' });
    expect(credit).toMatchObject({ object: 'credit', voucher_id: voucher.id, remaining: { amount: 5_000, currency: 'CNY' } });
    expect((await client.vouchers.redeem(voucher.code, { idempotencyKey: 'redeem-1' })).credit.id).toBe(credit.id);
    await expect(client.vouchers.redeem(voucher.code)).rejects.toMatchObject({ status: 409, type: 'conflict' });
    expect((await client.account()).credits.map((c) => c.id)).toEqual([credit.id]);

    const job = await client.jobs.create({ image: 'a/b:1', command: ['sh', '-c', 'sleep 1.5'], gpu_count: 1, max_runtime_seconds: 60 });
    let final: Job = job;
    for await (const update of client.jobs.follow(job.id, { intervalMs: 200 })) final = update.job;
    expect(final.status).toBe('succeeded');
    expect(final.usage.gpu_seconds).toBeGreaterThan(0);
    // Usage is a projection: wait until its lines for the job add up to the job's final usage.
    const report = await eventually(async () => {
      const r = await client.usage();
      const lines = r.data.filter((l) => l.job_id === job.id);
      return lines.reduce((n, l) => n + l.gpu_seconds, 0) === final.usage.gpu_seconds ? r : undefined;
    }, 30_000, 'the usage lines of the job');
    // The trial pays first, at no cost.
    expect(report.data).toEqual([expect.objectContaining({ job_id: job.id, source: 'trial', gpu_type: 'a100', trial_gpu_seconds: final.usage.gpu_seconds, cost: { amount: 0, currency: 'CNY' } })]);
    expect(report.total).toEqual({ gpu_seconds: final.usage.gpu_seconds, trial_gpu_seconds: final.usage.gpu_seconds, cost: { amount: 0, currency: 'CNY' } });
    const future = new Date(Date.now() + 3_600_000).toISOString();
    expect((await client.usage({ from: future })).data).toEqual([]);
    await expect(client.usage({ from: future, to: new Date().toISOString() })).rejects.toMatchObject({ status: 400, type: 'invalid_request' });
  }, 60_000);

  it('creates, lists page by page and revokes API keys; a revoked key gets 401 at once', async () => {
    const client = await signedUp();
    const ci = await client.apiKeys.create({ name: 'ci' });
    expect(ci).toMatchObject({ object: 'api_key', id: expect.stringMatching(/^key_/), name: 'ci', api_key: expect.stringMatching(/^sk_/) });
    const other = await client.apiKeys.create();
    expect(other.name).toBeNull();
    const withCi = new SxClient({ baseUrl: stack.url, apiKey: ci.api_key });
    expect((await withCi.account()).id).toBe((await client.account()).id);

    const first = await client.apiKeys.list({ limit: 1 });
    expect(first).toMatchObject({ has_more: true, next_cursor: expect.any(String), data: [{ id: other.id }] });
    expect(JSON.stringify(first)).not.toContain('sk_');
    const all = [];
    for await (const key of client.apiKeys.listAll({ pageSize: 1 })) all.push(key.id);
    expect(all).toHaveLength(3);
    expect(all.slice(0, 2)).toEqual([other.id, ci.id]);

    await client.apiKeys.revoke(ci.id);
    await expect(withCi.account()).rejects.toMatchObject({ status: 401, type: 'unauthorized' });
    const left = [];
    for await (const key of client.apiKeys.listAll()) left.push(key.id);
    expect(left).not.toContain(ci.id);
    await expect(client.apiKeys.revoke('key_00000000000000000000000000')).rejects.toMatchObject({ status: 404 });
  });

  it('manages a webhook endpoint: delivery log, verification, secret rotation and a retried delivery', async () => {
    const client = await signedUp();
    const hook = receiver.route();
    const endpoint = await client.webhookEndpoints.create({ url: hook.url, events: ['job.queued'], description: 'sdk test' });
    expect(endpoint).toMatchObject({ object: 'webhook_endpoint', url: hook.url, events: ['job.queued'], status: 'enabled', secret: expect.stringMatching(/^whsec_/) });
    expect(await client.webhookEndpoints.get(endpoint.id)).toEqual(expect.not.objectContaining({ secret: expect.anything() }));
    expect((await client.webhookEndpoints.list()).data.map((e) => e.id)).toEqual([endpoint.id]);

    const job = await client.jobs.create({ image: 'a/b:1', command: ['true'], gpu_count: 1, max_runtime_seconds: 60 });
    const [delivery] = await eventually(async () => {
      const { data } = await client.webhookEndpoints.deliveries(endpoint.id, { status: 'succeeded' });
      return data.length ? data : undefined;
    }, 30_000, 'the job.queued delivery');
    expect(delivery).toMatchObject({ event_type: 'job.queued', attempt_count: 1, attempts: [{ status_code: 200 }], next_attempt_at: null });
    const first = hook.got()[0]!;
    const verified = verifyWebhook(endpoint.secret, first.body, first.headers as Record<string, string>);
    expect(verified).toMatchObject({ id: delivery!.id, event: { type: 'job.queued', data: { job: { id: job.id } } } });

    const rotated = await client.webhookEndpoints.rotateSecret(endpoint.id, { expire_previous_in_seconds: 600 });
    expect(rotated.secret).not.toBe(endpoint.secret);
    expect(Date.parse(rotated.previous_secret_expires_at!)).toBeGreaterThan(Date.now());

    const retried = await client.webhookEndpoints.retryDelivery(endpoint.id, delivery!.id);
    expect(retried.id).toBe(delivery!.id);
    const again = await eventually(async () => hook.got().filter((r) => r.headers['webhook-id'] === delivery!.id)[1], 30_000, 'the retried delivery');
    // Signed with both secrets while the old one has not expired.
    expect(verifyWebhook(rotated.secret, again.body, again.headers as Record<string, string>).id).toBe(delivery!.id);
    expect(verifyWebhook(endpoint.secret, again.body, again.headers as Record<string, string>).id).toBe(delivery!.id);
    const seen = [];
    for await (const d of client.webhookEndpoints.listAllDeliveries(endpoint.id, { pageSize: 1 })) seen.push(d.id);
    expect(seen).toEqual([delivery!.id]);

    await client.webhookEndpoints.delete(endpoint.id);
    await expect(client.webhookEndpoints.get(endpoint.id)).rejects.toMatchObject({ status: 404, type: 'not_found' });
  }, 60_000);

  it('enables an endpoint the service disabled for 410 Gone, and refuses a retry while it is disabled', async () => {
    const client = await signedUp();
    const hook = receiver.route(() => ({ status: 410 }));
    const endpoint = await client.webhookEndpoints.create({ url: hook.url, events: ['job.queued'] });
    await client.jobs.create({ image: 'a/b:1', command: ['true'], gpu_count: 1, max_runtime_seconds: 60 });
    const disabled = await eventually(async () => {
      const e = await client.webhookEndpoints.get(endpoint.id);
      return e.status === 'disabled' ? e : undefined;
    }, 30_000, 'the endpoint to be disabled');
    expect(disabled).toMatchObject({ disabled_reason: 'gone', disabled_at: expect.any(String) });
    const { data } = await client.webhookEndpoints.deliveries(endpoint.id);
    await expect(client.webhookEndpoints.retryDelivery(endpoint.id, data[0]!.id)).rejects.toMatchObject({ status: 409, type: 'invalid_state' });

    expect(await client.webhookEndpoints.enable(endpoint.id)).toMatchObject({ status: 'enabled', disabled_reason: null });
    expect((await client.webhookEndpoints.retryDelivery(endpoint.id, data[0]!.id)).id).toBe(data[0]!.id);
  }, 60_000);

  it('fetches the OpenAPI document without a key', async () => {
    const doc = await new SxClient({ baseUrl: stack.url }).openApi();
    expect(doc).toMatchObject({ openapi: expect.stringMatching(/^3\.1/) });
    expect(Object.keys(doc.paths as object)).toContain('/v1/webhook-endpoints/{id}/deliveries/{delivery_id}/retry');
  });
});

describe('SxClient retries', () => {
  /** A real HTTP server that answers with each of `answers` in turn and records the requests. */
  async function scripted(answers: Array<{ status: number; body: unknown }>) {
    const seen: Array<{ method: string; url: string; headers: IncomingHttpHeaders }> = [];
    const server = createServer((req, res) => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers });
      const answer = answers[Math.min(seen.length - 1, answers.length - 1)]!;
      res.writeHead(answer.status, { 'content-type': answer.status >= 400 ? 'application/problem+json' : 'application/json' });
      res.end(JSON.stringify(answer.body));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    return { url, seen, answers, close: () => new Promise((r) => server.close(r)) };
  }
  const unavailable = { status: 503, body: { type: 'service_unavailable', title: 'Unavailable', status: 503 } };

  it('retries a job submission after a 503 with the same Idempotency-Key, so it can never start two jobs', async () => {
    const client = await signedUp();
    const real: Job = await client.jobs.create({ image: 'a/b:1', command: ['true'], gpu_count: 1, max_runtime_seconds: 60 });
    const server = await scripted([unavailable, unavailable, { status: 201, body: real }]);
    try {
      const retries: number[] = [];
      const flaky = new SxClient({ baseUrl: server.url, apiKey: 'sk_x', retryDelayMs: 5, onRetry: ({ attempt }) => retries.push(attempt) });
      const job = await flaky.jobs.create({ image: 'a/b:1', command: ['true'], gpu_count: 1 }, { idempotencyKey: 'run-42' });
      expect(job.id).toBe(real.id);
      expect(retries).toEqual([1, 2]);
      expect(server.seen.map((r) => r.headers['idempotency-key'])).toEqual(['run-42', 'run-42', 'run-42']);

      // Without a key of its own, the client makes one, and keeps it across its retries.
      server.seen.length = 0;
      await flaky.jobs.create({ image: 'a/b:1', command: ['true'], gpu_count: 1 });
      expect(new Set(server.seen.map((r) => r.headers['idempotency-key'])).size).toBe(1);
      expect(server.seen[0]!.headers['idempotency-key']).toMatch(/^[0-9a-f-]{36}$/);
    } finally {
      await server.close();
    }
  });

  it('retries signup with one Idempotency-Key, never retries a rotation (not idempotent), and gives up on an unreachable server after its retries', async () => {
    const signedUpBody = { account: { id: 'acct_1', email: 'a@b.co' }, api_key: 'sk_1' };
    const server = await scripted([unavailable, { status: 201, body: signedUpBody }]);
    try {
      expect(await new SxClient({ baseUrl: server.url, retryDelayMs: 5 }).signup({ email: 'a@b.co' })).toEqual(signedUpBody);
      expect(server.seen).toHaveLength(2);
      expect(server.seen[0]!.headers['idempotency-key']).toMatch(/^[0-9a-f-]{36}$/);
      expect(server.seen[1]!.headers['idempotency-key']).toBe(server.seen[0]!.headers['idempotency-key']);

      server.seen.length = 0;
      server.answers.splice(0, server.answers.length, unavailable);
      const error = await new SxClient({ baseUrl: server.url, apiKey: 'sk_x', retryDelayMs: 5 }).webhookEndpoints.rotateSecret('whep_1').catch((e: unknown) => e);
      expect(error).toMatchObject({ status: 503 });
      expect(server.seen).toHaveLength(1);

      // A 404 that is not a problem (API Gateway's answer to a route it lacks) is told apart from a missing resource.
      server.answers.splice(0, server.answers.length, { status: 404, body: { message: 'Not Found' } });
      const missing = await new SxClient({ baseUrl: server.url, apiKey: 'sk_x' }).apiKeys.list().catch((e: unknown) => e);
      expect(missing).toBeInstanceOf(SxApiError);
      expect(missing).toMatchObject({ status: 404, type: 'not_found' });
      expect((missing as SxApiError).isMissingRoute).toBe(true);
    } finally {
      await server.close();
    }
    const down = await new SxClient({ baseUrl: server.url, apiKey: 'sk_x', maxRetries: 2, retryDelayMs: 5 }).account().catch((e: unknown) => e);
    expect(down).toBeInstanceOf(SxConnectionError);
    expect(down).toMatchObject({ attempts: 3 });
    expect((down as Error).message).toMatch(/^cannot reach http:\/\/127\.0\.0\.1:\d+ after 3 attempts: ECONNREFUSED/);
  });
});

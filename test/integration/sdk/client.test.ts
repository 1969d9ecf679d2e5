import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../../support/local-stack';
import { SxApiError, SxClient, SxConnectionError, isFinal, type Job } from '../../../sdk';

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({
    policy: { stopGraceSeconds: 2 },
  });
}, 60_000);

afterAll(async () => {
  await stack?.drop();
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
    return { url, seen, close: () => new Promise((r) => server.close(r)) };
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

  it('never retries a POST that has no Idempotency-Key (signup), and gives up on an unreachable server after its retries', async () => {
    const server = await scripted([unavailable, { status: 201, body: {} }]);
    try {
      const error = await new SxClient({ baseUrl: server.url, retryDelayMs: 5 }).signup({ email: 'a@b.co' }).catch((e: unknown) => e);
      expect(error).toMatchObject({ status: 503 });
      expect(server.seen).toHaveLength(1);
    } finally {
      await server.close();
    }
    const down = await new SxClient({ baseUrl: server.url, apiKey: 'sk_x', maxRetries: 2, retryDelayMs: 5 }).account().catch((e: unknown) => e);
    expect(down).toBeInstanceOf(SxConnectionError);
    expect(down).toMatchObject({ attempts: 3 });
    expect((down as Error).message).toMatch(/^cannot reach http:\/\/127\.0\.0\.1:\d+ after 3 attempts: ECONNREFUSED/);
  });
});

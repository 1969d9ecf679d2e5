import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient } from '../../../infra/local/stack-process';
import { signUp, startTestStack } from '../../support/local-stack';

let stack: Awaited<ReturnType<typeof startTestStack>>;

beforeAll(async () => {
  // A trial large enough for a few jobs at once, and small quotas to run into.
  stack = await startTestStack({ policy: { trialGpuSeconds: 1_000_000, maxConcurrentGpus: 4, maxJobsPerHour: 3 } });
}, 60_000);
afterAll(async () => stack?.drop(), 60_000);

const job = (gpuCount = 1, command = ['sleep', '30']) => ({ image: 'a/b:1', command, gpu_count: gpuCount, max_runtime_seconds: 60 });

describe('API keys', () => {
  it('creates a key shown once, lists keys without secrets, and a revoked key is refused at once', async () => {
    // Given an account with its signup key
    const { api, apiKey } = await signUp(stack.url, 'keys@example.com');

    // When it creates a second key
    const created = await api.post('/v1/api-keys', { name: 'ci' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ object: 'api_key', name: 'ci', id: expect.stringMatching(/^key_/), api_key: expect.stringMatching(/^sk_[0-9a-z]{26}_[A-Za-z0-9_-]{43}$/) });
    const second = apiClient(stack.url, created.body.api_key);
    expect((await second.get('/v1/account')).status).toBe(200);

    // Then both are listed, newest first, without any secret
    const list = await api.get('/v1/api-keys');
    expect(list.status).toBe(200);
    expect(list.body.data.map((k: { id: string }) => k.id)[0]).toBe(created.body.id);
    expect(list.body.data).toHaveLength(2);
    expect(JSON.stringify(list.body)).not.toContain('sk_');
    const page = await api.get('/v1/api-keys?limit=1');
    expect(page.body).toMatchObject({ has_more: true, data: [{ id: created.body.id }] });
    const next = await api.get(`/v1/api-keys?limit=1&cursor=${page.body.next_cursor}`);
    expect(next.body).toMatchObject({ has_more: false, next_cursor: null });
    expect(next.body.data).toHaveLength(1);

    // When the first key is revoked with the second
    const signupKeyId = `key_${apiKey.split('_')[1]}`;
    expect((await second.request('DELETE', `/v1/api-keys/${signupKeyId}`)).status).toBe(204);

    // Then the first is refused at once, revoking it again is still 204, and the last key cannot be revoked
    expect((await api.get('/v1/account')).status).toBe(401);
    expect((await second.request('DELETE', `/v1/api-keys/${signupKeyId}`)).status).toBe(204);
    const last = await second.request('DELETE', `/v1/api-keys/${created.body.id}`);
    expect({ status: last.status, type: last.body.type }).toEqual({ status: 409, type: 'invalid_state' });
    expect((await second.get('/v1/account')).status).toBe(200);
  });

  it('stores no key in plaintext anywhere, not even in the saved idempotent responses', async () => {
    const { api, apiKey } = await signUp(stack.url, 'plain@example.com');
    const created = await api.post('/v1/api-keys', {}, { 'idempotency-key': 'k-plain' });
    const signup = await apiClient(stack.url).post('/v1/signup', { email: 'plain2@example.com' }, { 'idempotency-key': 'k-plain' });
    for (const table of [stack.deps.tables.events, stack.deps.tables.views]) {
      const { Items } = await stack.deps.doc.send(new ScanCommand({ TableName: table }));
      const dump = JSON.stringify(Items);
      // The secret is everything after `sk_<key id>_`: base64url, so it may hold underscores itself.
      for (const key of [apiKey, created.body.api_key, signup.body.api_key]) {
        const secret = key.split('_').slice(2).join('_');
        expect(secret.length).toBeGreaterThanOrEqual(40);
        expect(dump).not.toContain(secret);
      }
    }
  });
});

describe('Idempotency-Key', () => {
  it('replays the first response for the same body, refuses another body with 422, and scopes keys by account', async () => {
    const { api, accountId } = await signUp(stack.url, 'idem@example.com');
    const accountVersion = async () => (await stack.deps.store.readStream(`account#${accountId}`)).events.filter((e) => e.type === 'HoldPlaced').length;
    const keyringVersion = async () => (await stack.deps.store.readStream(`keyring#${accountId}`)).version;
    const headers = { 'idempotency-key': 'job-1' };
    const first = await api.post('/v1/jobs', job(1, ['true']), headers);
    expect(first.status).toBe(201);

    // The same request again (fields in another order): the same job, marked as a replay
    const again = await api.post('/v1/jobs', { gpu_count: 1, max_runtime_seconds: 60, command: ['true'], image: 'a/b:1' }, headers);
    expect(again).toEqual(first);

    // Another body under the key: 422, and nothing created
    const before = [await accountVersion(), await keyringVersion()];
    const other = await api.post('/v1/jobs', job(2, ['true']), headers);
    expect({ status: other.status, type: other.body.type }).toEqual({ status: 422, type: 'idempotency_key_reuse' });
    // Another path under the key: also 422
    expect((await api.post('/v1/api-keys', {}, headers)).status).toBe(422);
    expect([await accountVersion(), await keyringVersion()]).toEqual(before);

    // Another account may use the same key for its own request
    const { api: theirs } = await signUp(stack.url, 'idem2@example.com');
    const theirJob = await theirs.post('/v1/jobs', job(1, ['true']), headers);
    expect(theirJob.status).toBe(201);
    expect(theirJob.body.id).not.toBe(first.body.id);
  });

  it('replays a signup, the key included, so a lost answer does not lose the key', async () => {
    const anonymous = apiClient(stack.url);
    const first = await anonymous.post('/v1/signup', { email: 'retry@example.com' }, { 'idempotency-key': 'signup-retry-0f8e' });
    const again = await anonymous.post('/v1/signup', { email: 'retry@example.com' }, { 'idempotency-key': 'signup-retry-0f8e' });
    expect(first.status).toBe(201);
    expect(again.body).toEqual(first.body);
    // Without the key, the same email is a conflict, as API.md says
    expect((await anonymous.post('/v1/signup', { email: 'retry@example.com' })).status).toBe(409);
  });

  it('does not save a validation failure: the same key may then carry the corrected request', async () => {
    const { api } = await signUp(stack.url, 'fix@example.com');
    const bad = await api.post('/v1/jobs', { ...job(1, ['true']), gpu_count: 9 }, { 'idempotency-key': 'fix-1' });
    expect(bad.status).toBe(400);
    expect((await api.post('/v1/jobs', job(1, ['true']), { 'idempotency-key': 'fix-1' })).status).toBe(201);
  });

  it('refuses malformed keys with 400', async () => {
    const { api } = await signUp(stack.url, 'badkey@example.com');
    for (const key of ['x'.repeat(256), 'tab\there', 'caf\u00e9']) {
      const res = await api.post('/v1/jobs', job(1, ['true']), { 'idempotency-key': key });
      expect({ key, status: res.status, type: res.body.type }).toEqual({ key, status: 400, type: 'invalid_request' });
    }
  });

  it('creates exactly one job from concurrent requests with one key', async () => {
    const { api, accountId } = await signUp(stack.url, 'race@example.com');
    const headers = { 'idempotency-key': 'race-1' };
    const answers = await Promise.all(Array.from({ length: 8 }, () => api.post('/v1/jobs', job(1, ['true']), headers)));

    // Then every answer is the one job or a 409 conflict, never a second job
    const created = answers.filter((a) => a.status === 201);
    expect(created.length).toBeGreaterThanOrEqual(1);
    expect(new Set(created.map((a) => a.body.id)).size).toBe(1);
    for (const a of answers.filter((a) => a.status !== 201)) expect({ status: a.status, type: a.body.type }).toEqual({ status: 409, type: 'conflict' });
    const { events } = await stack.deps.store.readStream(`account#${accountId}`);
    expect(events.filter((e) => e.type === 'HoldPlaced')).toHaveLength(1);
    // And once it is done, a retry gets the job
    expect((await api.post('/v1/jobs', job(1, ['true']), headers)).body.id).toBe(created[0]!.body.id);
  });
});

describe('Quotas', () => {
  it('holds the concurrent-GPU quota under concurrent submissions and answers 429 with Retry-After', async () => {
    const { api } = await signUp(stack.url, 'gpus@example.com');
    // Four 2-GPU jobs at once against a quota of 4 GPUs: exactly two fit
    const answers = await Promise.all(Array.from({ length: 4 }, () => api.post('/v1/jobs', job(2))));
    expect(answers.map((a) => a.status).sort()).toEqual([201, 201, 429, 429]);
    const refused = await api.post('/v1/jobs', job(1));
    expect(refused.status).toBe(429);
    expect(refused.type).toBe('application/problem+json');
    expect(refused.body.type).toBe('rate_limited');
    const res = await fetch(`${stack.url}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${(await signUpKey())}` }, body: JSON.stringify(job(8)) });
    // Larger than the quota: waiting cannot help, so 409 quota_exceeded naming it, with no Retry-After.
    expect(res.status).toBe(409);
    expect(res.headers.get('retry-after')).toBeNull();
    expect(await res.json()).toMatchObject({ type: 'quota_exceeded', quota: { name: 'concurrent_gpus', limit: 4 } });
    for (const a of answers.filter((a) => a.status === 201)) await api.post(`/v1/jobs/${a.body.id}/cancel`);
  });

  it('counts jobs per sliding hour and says when to retry', async () => {
    const { apiKey, api } = await signUp(stack.url, 'hourly@example.com');
    for (let i = 0; i < 3; i++) expect((await api.post('/v1/jobs', job(1, ['true']))).status).toBe(201);
    const res = await fetch(`${stack.url}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` }, body: JSON.stringify(job(1, ['true'])) });
    expect(res.status).toBe(429);
    const retryAfter = Number(res.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(3500);
    expect(retryAfter).toBeLessThanOrEqual(3600);
  });
});

let counter = 0;
const signUpKey = async () => (await signUp(stack.url, `quota${counter++}@example.com`)).apiKey;

import { describe, expect, it } from 'vitest';
import { defaultPolicy } from '../../../domain/policy';
import { InMemoryEventStore } from '../../../functions/adapters/in-memory-event-store';
import { apiKeys } from '../../../functions/aggregates/identity';
import type { Deps } from '../../../functions/deps';
import { newAdminKey, newApiKey } from '../../../functions/http/auth';
import { defaultRateLimits, InMemoryRequestCounter, type RateLimits } from '../../../functions/http/rate-limits';
import { json, route } from '../../../functions/http/route';

// The request limits of the route layer, which every route runs in AWS and locally. Time is a
// clock the test moves; the counter is the in-memory one (the DynamoDB one passes the same contract).

const adminKey = newAdminKey();
const ACCOUNT = 'acct_01jdaaaaaaaaaaaaaaaaaaaaaa';
type Res = { statusCode: number; body: string; headers: Record<string, string> };

async function given(rateLimits: Partial<RateLimits>) {
  const store = new InMemoryEventStore();
  let clock = Date.parse('2026-12-03T10:00:10.000Z');
  const deps = {
    store,
    policy: defaultPolicy,
    now: () => new Date(clock),
    adminKey: async () => adminKey,
    requestCounter: new InMemoryRequestCounter(),
    rateLimits,
  } as unknown as Deps;
  const issue = async (keyId: string) => {
    const { apiKey, secretHash } = newApiKey(keyId);
    const at = new Date(clock).toISOString();
    await store.append([{ streamId: apiKeys.streamId(keyId), expectedVersion: 0, events: [{ type: 'ApiKeyIssued', data: { keyId, accountId: ACCOUNT, secretHash, issuedAt: at } }] }], { at });
    return apiKey;
  };
  const keyed = route(deps, { auth: 'key' }, async ({ accountId }) => json(200, { accountId }));
  const admin = route(deps, { auth: 'admin' }, async () => json(200, {}));
  const signup = route(deps, { auth: 'none', sourceLimit: 'signupsPerSource' }, async () => json(201, {}));
  const call = async (handler: typeof keyed, authorization: string | undefined, sourceIp = '203.0.113.7') =>
    (await handler(
      {
        routeKey: 'GET /v1/account',
        rawPath: '/v1/account',
        headers: authorization ? { authorization } : {},
        isBase64Encoded: false,
        requestContext: { requestId: 'req-1', http: { method: 'GET', sourceIp } },
      } as never,
      {} as never,
    )) as Res;
  return { deps, issue, keyed, admin, signup, call, advance: (seconds: number) => (clock += seconds * 1000) };
}

const statuses = (results: Res[]) => results.map((r) => r.statusCode);

describe('request limits in the route layer', () => {
  it('answers 429 rate_limited with Retry-After once a key has used its window, per key, and lets it in again in the next window', async () => {
    const { issue, keyed, call, advance } = await given({ perKey: { limit: 3, windowSeconds: 60 } });
    const [a, b] = [await issue('key_01jdbbbbbbbbbbbbbbbbbbbbbb'), await issue('key_01jdcccccccccccccccccccccc')];
    const first = [];
    for (let i = 0; i < 4; i++) first.push(await call(keyed, `Bearer ${a}`));
    expect(statuses(first)).toEqual([200, 200, 200, 429]);
    const refused = first[3]!;
    expect(refused.headers['content-type']).toBe('application/problem+json');
    // The clock is 10 s into its minute: the window ends in 50 s.
    expect(refused.headers['retry-after']).toBe('50');
    expect(JSON.parse(refused.body)).toMatchObject({ type: 'rate_limited', status: 429, detail: 'Too many requests with this API key: at most 3 in 60 s; retry in 50 s' });
    // Another key of the same account has its own count.
    expect((await call(keyed, `Bearer ${b}`)).statusCode).toBe(200);
    advance(50);
    expect((await call(keyed, `Bearer ${a}`)).statusCode).toBe(200);
  });

  it('refuses a source that kept failing authentication before reading its key, even a valid one, while other sources go on', async () => {
    const { issue, keyed, admin, call } = await given({ failedAuthPerSource: { limit: 3, windowSeconds: 300 } });
    const good = await issue('key_01jdbbbbbbbbbbbbbbbbbbbbbb');
    const bad = `Bearer sk_${'0'.repeat(26)}_${'A'.repeat(43)}`;
    const attempts = [await call(keyed, bad), await call(keyed, undefined), await call(admin, 'Bearer not-the-admin-key'), await call(keyed, bad)];
    expect(statuses(attempts)).toEqual([401, 401, 401, 429]);
    expect(attempts[3]!.headers['retry-after']).toBe('290'); // 10 s into a 300 s window
    expect((await call(keyed, `Bearer ${good}`)).statusCode).toBe(429);
    expect((await call(keyed, `Bearer ${good}`, '198.51.100.1')).statusCode).toBe(200);
  });

  it('does not count successful authentications as failures', async () => {
    const { issue, keyed, call } = await given({ failedAuthPerSource: { limit: 2, windowSeconds: 300 } });
    const good = await issue('key_01jdbbbbbbbbbbbbbbbbbbbbbb');
    const results = [];
    for (let i = 0; i < 5; i++) results.push(await call(keyed, `Bearer ${good}`));
    expect(statuses(results)).toEqual([200, 200, 200, 200, 200]);
  });

  it('never limits the admin key by key', async () => {
    const { admin, call } = await given({ perKey: { limit: 1, windowSeconds: 60 } });
    const results = [];
    for (let i = 0; i < 3; i++) results.push(await call(admin, `Bearer ${adminKey}`));
    expect(statuses(results)).toEqual([200, 200, 200]);
  });

  it('limits signups per source address', async () => {
    const { signup, call } = await given({ signupsPerSource: { limit: 2, windowSeconds: 3600 } });
    const results = [await call(signup, undefined), await call(signup, undefined), await call(signup, undefined), await call(signup, undefined, '198.51.100.1')];
    expect(statuses(results)).toEqual([201, 201, 429, 201]);
    expect(JSON.parse(results[2]!.body)).toMatchObject({ type: 'rate_limited', detail: expect.stringMatching(/^Too many signups from this address: at most 2 in 3600 s/) });
  });

  it('has the figures the README states', () => {
    expect(defaultRateLimits).toEqual({
      perKey: { limit: 600, windowSeconds: 60 },
      signupsPerSource: { limit: 10, windowSeconds: 3600 },
      failedAuthPerSource: { limit: 30, windowSeconds: 300 },
    });
  });
});

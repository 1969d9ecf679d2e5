import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventItems, startTestStack, type TestStack } from '../support/local-stack';

// The request limits over HTTP on the local stack, which runs the same route layer as each Lambda.
// Windows so long that no test straddles one (the window arithmetic has its own unit tests).
const LONG = 1_000_000_000;
let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({
    rateLimits: {
      perKey: { limit: 4, windowSeconds: LONG },
      signupsPerSource: { limit: 3, windowSeconds: LONG },
      failedAuthPerSource: { limit: 2, windowSeconds: LONG },
    },
  });
});
afterAll(async () => stack?.drop());

const send = async (path: string, init: { method?: string; key?: string; body?: unknown } = {}) => {
  const res = await fetch(stack.url + path, {
    method: init.method ?? 'GET',
    headers: { ...(init.body ? { 'content-type': 'application/json' } : {}), ...(init.key ? { authorization: `Bearer ${init.key}` } : {}) },
    body: init.body ? JSON.stringify(init.body) : undefined,
  });
  return { status: res.status, retryAfter: res.headers.get('retry-after'), type: res.headers.get('content-type'), body: (await res.json()) as any };
};
const signup = (n: number) => send('/v1/signup', { method: 'POST', body: { email: `limits-${n}@example.com` } });

describe('request limits over HTTP (every client here is 127.0.0.1)', () => {
  const keys: string[] = [];

  it('lets a source sign up 3 accounts, then answers 429 rate_limited with Retry-After, creating nothing', async () => {
    for (const n of [1, 2, 3]) {
      const res = await signup(n);
      expect(res.status).toBe(201);
      keys.push(res.body.api_key);
    }
    const before = await eventItems(stack);
    const refused = await signup(4);
    expect(await eventItems(stack)).toBe(before);
    expect(refused).toMatchObject({ status: 429, type: 'application/problem+json', body: { type: 'rate_limited', status: 429 } });
    expect(Number(refused.retryAfter)).toBeGreaterThan(0);
    expect(Number.isInteger(Number(refused.retryAfter))).toBe(true);
  });

  it('answers 429 with Retry-After to a key past its limit, and counts each key apart', async () => {
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await send('/v1/account', { key: keys[0] })).status);
    expect(statuses).toEqual([200, 200, 200, 200, 429]);
    const refused = await send('/v1/jobs', { key: keys[0] });
    expect(refused.body).toMatchObject({ type: 'rate_limited', detail: expect.stringMatching(/^Too many requests with this API key: at most 4 in/) });
    expect(Number(refused.retryAfter)).toBeGreaterThan(0);
    expect((await send('/v1/account', { key: keys[1] })).status).toBe(200);
  });

  it('refuses a source after its failed authentications, even with a valid key', async () => {
    const bad = `sk_${'0'.repeat(26)}_${'A'.repeat(43)}`;
    expect((await send('/v1/account', { key: bad })).status).toBe(401);
    expect((await send('/v1/account')).status).toBe(401);
    const refused = await send('/v1/account', { key: bad });
    expect(refused).toMatchObject({ status: 429, body: { type: 'rate_limited', detail: expect.stringMatching(/^Too many failed authentications from this address/) } });
    expect((await send('/v1/account', { key: keys[2] })).status).toBe(429);
  });
});

import { afterEach, describe, expect, it, vi } from 'vitest';
import { defaultPolicy } from '../../../domain/policy';
import { InMemoryEventStore } from '../../../functions/adapters/in-memory-event-store';
import type { Deps } from '../../../functions/deps';
import { json, route } from '../../../functions/http/route';
import { logger } from '../../../functions/logger';
import { InMemoryRequestCounter } from '../../../functions/http/rate-limits';

const deps = { store: new InMemoryEventStore(), policy: defaultPolicy, now: () => new Date(), requestCounter: new InMemoryRequestCounter() } as unknown as Deps;
const event = (body?: string, headers: Record<string, string> = {}) =>
  ({ routeKey: 'POST /x', rawPath: '/x', headers, body, isBase64Encoded: false, requestContext: { requestId: 'req-42', http: { method: 'POST' } } }) as never;

afterEach(() => vi.restoreAllMocks());

describe('the route middleware chain', () => {
  it('answers an unexpected error with a bare 500 naming the request id, and logs the error with it', async () => {
    // Prepare: a handler that fails with internals in its message
    const logged = vi.spyOn(logger, 'error').mockImplementation(() => undefined);
    const handler = route(deps, { auth: 'none' }, async () => {
      throw new Error('connect ECONNREFUSED 10.0.3.7:8000 table sx-prod-events');
    });

    // Act
    const res = (await handler(event(), {} as never)) as { statusCode: number; headers: Record<string, string>; body: string };

    // Assess: problem+json with the request id, nothing of the error
    expect(res.statusCode).toBe(500);
    expect(res.headers['content-type']).toBe('application/problem+json');
    expect(res.headers['x-request-id']).toBe('req-42');
    expect(JSON.parse(res.body)).toEqual({ type: 'internal_error', title: 'Internal error', status: 500, detail: 'Request req-42 failed; it has been logged', request_id: 'req-42' });
    expect(res.body).not.toMatch(/ECONNREFUSED|10\.0\.3\.7|sx-prod/);
    expect(logged).toHaveBeenCalledWith('request failed', expect.objectContaining({ requestId: 'req-42', error: expect.objectContaining({ message: expect.stringMatching(/ECONNREFUSED/) }) }));
  });

  it('refuses a body over 64 KiB with 413 before parsing it', async () => {
    const parse = vi.spyOn(JSON, 'parse');
    const handler = route(deps, { auth: 'none' }, async () => json(200, {}));
    const res = (await handler(event(`{"a":"${'x'.repeat(64 * 1024)}"}`), {} as never)) as { statusCode: number; body: string };
    expect(res.statusCode).toBe(413);
    expect(parse).not.toHaveBeenCalled();
  });

  it('checks the key before anything else of the request: 401 for a bad key whatever the body', async () => {
    const handler = route(deps, { auth: 'key', idempotent: true }, async () => json(200, {}));
    for (const body of ['{"bad json', `"${'x'.repeat(70_000)}"`, '{}']) {
      const res = (await handler(event(body, { authorization: 'Bearer nope', 'idempotency-key': '\u0000' }), {} as never)) as { statusCode: number };
      expect(res.statusCode).toBe(401);
    }
  });
});

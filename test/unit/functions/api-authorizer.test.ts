import { afterEach, describe, expect, it, vi } from 'vitest';
import { defaultPolicy } from '../../../domain/policy';
import { InMemoryEventStore } from '../../../functions/adapters/in-memory-event-store';
import { apiKeys } from '../../../functions/aggregates/identity';
import { make } from '../../../functions/api-authorizer';
import type { Deps } from '../../../functions/deps';
import { authorizerContextOf, newAdminKey, newApiKey } from '../../../functions/http/auth';
import { json, route } from '../../../functions/http/route';
import { adminRoutes, publicRoutes, routeAuth } from '../../../infra/access';
import { routesWithModules } from '../../../functions/api/route-modules';
import { logger } from '../../../functions/logger';
import { InMemoryRequestCounter } from '../../../functions/http/rate-limits';

const adminKey = newAdminKey();
const now = '2026-11-25T12:00:00.000Z';
const ACCOUNT = 'acct_01jdaaaaaaaaaaaaaaaaaaaaaa';

/** Deps over a real (in-memory) event store holding one active and one revoked key of ACCOUNT. */
async function given() {
  const store = new InMemoryEventStore();
  const deps = { store, policy: defaultPolicy, now: () => new Date(now), adminKey: async () => adminKey, requestCounter: new InMemoryRequestCounter() } as unknown as Deps;
  const issue = async (keyId: string) => {
    const { apiKey, secretHash } = newApiKey(keyId);
    await store.append([{ streamId: apiKeys.streamId(keyId), expectedVersion: 0, events: [{ type: 'ApiKeyIssued', data: { keyId, accountId: ACCOUNT, secretHash, issuedAt: now } }] }], { at: now });
    return apiKey;
  };
  const active = await issue('key_01jdbbbbbbbbbbbbbbbbbbbbbb');
  const revoked = await issue('key_01jdcccccccccccccccccccccc');
  await store.append([{ streamId: apiKeys.streamId('key_01jdcccccccccccccccccccccc'), expectedVersion: 1, events: [{ type: 'ApiKeyRevoked', data: { revokedAt: now } }] }], { at: now });
  return { deps, store, active, revoked };
}

/** The REQUEST event (payload 2.0) API Gateway sends an authorizer without identity sources. */
const authorizerEvent = (routeKey: string, headers: Record<string, string> = {}) =>
  ({
    version: '2.0',
    type: 'REQUEST',
    routeArn: 'arn:aws:execute-api:us-east-1:123456789012:abc/$default/GET/v1/account',
    routeKey,
    rawPath: routeKey.split(' ')[1],
    rawQueryString: '',
    headers,
    requestContext: { requestId: 'req-7', routeKey, http: { method: routeKey.split(' ')[0] } },
  }) as never;

afterEach(() => vi.restoreAllMocks());

describe('the API Gateway Lambda authorizer', () => {
  it('lets a valid API key through with its account and key id', async () => {
    const { deps, active } = await given();
    const result = await make(deps)(authorizerEvent('GET /v1/account', { authorization: `Bearer ${active}` }));
    expect(result).toEqual({ isAuthorized: true, context: { auth: 'key', outcome: 'allowed', accountId: ACCOUNT, keyId: 'key_01jdbbbbbbbbbbbbbbbbbbbbbb' } });
  });

  it.each([
    ['missing', undefined, 'A valid API key is required: Authorization: Bearer sk_…'],
    ['malformed', 'Bearer not-a-key', 'A valid API key is required: Authorization: Bearer sk_…'],
    ['unknown', `Bearer ${newApiKey('key_01jddddddddddddddddddddddd').apiKey}`, 'The API key is not valid'],
    ['wrong secret', 'Bearer sk_01jdbbbbbbbbbbbbbbbbbbbbbb_' + 'A'.repeat(43), 'The API key is not valid'],
    ['the admin key', `Bearer ${adminKey}`, 'A valid API key is required: Authorization: Bearer sk_…'],
  ])('refuses a %s key with the 401 detail, never with isAuthorized: false', async (_name, header, detail) => {
    const { deps } = await given();
    const result = await make(deps)(authorizerEvent('POST /v1/jobs', header ? { Authorization: header } : {}));
    expect(result).toEqual({ isAuthorized: true, context: { auth: 'key', outcome: 'refused', detail } });
  });

  it('refuses a revoked key at once (nothing is cached)', async () => {
    const { deps, revoked } = await given();
    const result = await make(deps)(authorizerEvent('GET /v1/jobs', { authorization: `Bearer ${revoked}` }));
    expect(result).toEqual({ isAuthorized: true, context: { auth: 'key', outcome: 'refused', detail: 'The API key is not valid' } });
  });

  it('checks the admin key on admin routes, and an API key is not one', async () => {
    const { deps, active } = await given();
    const authorize = make(deps);
    expect(await authorize(authorizerEvent('POST /v1/admin/vouchers', { authorization: `Bearer ${adminKey}` }))).toEqual({ isAuthorized: true, context: { auth: 'admin', outcome: 'allowed' } });
    expect(await authorize(authorizerEvent('POST /v1/admin/vouchers', { authorization: `Bearer ${active}` }))).toEqual({
      isAuthorized: true,
      context: { auth: 'admin', outcome: 'refused', detail: 'The admin key is not valid' },
    });
    expect(await authorize(authorizerEvent('POST /v1/admin/vouchers'))).toMatchObject({ context: { auth: 'admin', outcome: 'refused' } });
  });

  it('never throws: a failing event store is logged with the request id and answered unverified', async () => {
    const { deps, active } = await given();
    vi.spyOn(deps.store, 'readStream').mockRejectedValue(new Error('ProvisionedThroughputExceededException'));
    const logged = vi.spyOn(logger, 'error').mockImplementation(() => undefined);
    const result = await make(deps)(authorizerEvent('GET /v1/account', { authorization: `Bearer ${active}` }));
    expect(result).toEqual({ isAuthorized: true, context: { auth: 'key', outcome: 'unverified' } });
    expect(logged).toHaveBeenCalledWith(expect.any(String), expect.objectContaining({ requestId: 'req-7', error: expect.objectContaining({ message: 'ProvisionedThroughputExceededException' }) }));
  });

  it('never throws: a failing admin key fetch is answered unverified too', async () => {
    const { deps } = await given();
    deps.adminKey = async () => {
      throw new Error('AccessDeniedException');
    };
    vi.spyOn(logger, 'error').mockImplementation(() => undefined);
    expect(await make(deps)(authorizerEvent('POST /v1/admin/vouchers', { authorization: 'Bearer x' }))).toEqual({ isAuthorized: true, context: { auth: 'admin', outcome: 'unverified' } });
  });

  it('judges nothing on a public route', async () => {
    const { deps } = await given();
    expect(await make(deps)(authorizerEvent('POST /v1/signup'))).toEqual({ isAuthorized: true });
  });

  it('knows each route the way its module does: public, admin or keyed', () => {
    for (const r of routesWithModules()) {
      expect(routeAuth(`${r.method} ${r.path}`), `${r.method} ${r.path}`).toBe(r.module.options?.auth ?? 'key');
    }
    expect(adminRoutes.size + publicRoutes.size).toBeGreaterThan(2);
  });
});

describe('a route behind the authorizer', () => {
  const routeEvent = (authorizer: unknown, headers: Record<string, string> = {}) =>
    ({
      routeKey: 'GET /x',
      rawPath: '/x',
      headers,
      isBase64Encoded: false,
      requestContext: { requestId: 'req-8', http: { method: 'GET' }, ...(authorizer === undefined ? {} : { authorizer: { lambda: authorizer } }) },
    }) as never;
  type Res = { statusCode: number; body: string; headers: Record<string, string> };

  it("trusts an allowed verdict: the account is the authorizer's, and the key is not read again", async () => {
    const { deps } = await given();
    const reads = vi.spyOn(deps.store, 'readStream');
    const handler = route(deps, { auth: 'key' }, async ({ accountId }) => json(200, { accountId }));
    const res = (await handler(routeEvent({ auth: 'key', outcome: 'allowed', accountId: ACCOUNT, keyId: 'key_01jdbbbbbbbbbbbbbbbbbbbbbb' }), {} as never)) as Res;
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ accountId: ACCOUNT });
    expect(reads).not.toHaveBeenCalled();
  });

  it("answers a refused verdict with API.md's 401 problem and its detail", async () => {
    const { deps, active } = await given();
    const handler = route(deps, { auth: 'key' }, async () => json(200, {}));
    // The verdict wins over the header: the route does not second-guess the authorizer.
    const res = (await handler(routeEvent({ auth: 'key', outcome: 'refused', detail: 'The API key is not valid' }, { authorization: `Bearer ${active}` }), {} as never)) as Res;
    expect(res.statusCode).toBe(401);
    expect(res.headers['content-type']).toBe('application/problem+json');
    expect(res.headers['www-authenticate']).toBe('Bearer');
    expect(JSON.parse(res.body)).toMatchObject({ type: 'unauthorized', status: 401, detail: 'The API key is not valid', request_id: 'req-8' });
  });

  it('authenticates by itself when the verdict is unverified, absent, malformed or about another kind of key', async () => {
    const { deps, active, revoked } = await given();
    const handler = route(deps, { auth: 'key' }, async ({ accountId }) => json(200, { accountId }));
    for (const verdict of [{ auth: 'key', outcome: 'unverified' }, undefined, { auth: 'key', outcome: 'allowed' }, { auth: 'admin', outcome: 'allowed' }, 'allowed']) {
      const good = (await handler(routeEvent(verdict, { authorization: `Bearer ${active}` }), {} as never)) as Res;
      expect(JSON.parse(good.body), JSON.stringify(verdict)).toEqual({ accountId: ACCOUNT });
      const bad = (await handler(routeEvent(verdict, { authorization: `Bearer ${revoked}` }), {} as never)) as Res;
      expect(bad.statusCode, JSON.stringify(verdict)).toBe(401);
    }
  });

  it("never lets an API key's verdict open an admin route", async () => {
    const { deps, active } = await given();
    const handler = route(deps, { auth: 'admin' }, async () => json(200, { ok: true }));
    const res = (await handler(routeEvent({ auth: 'key', outcome: 'allowed', accountId: ACCOUNT, keyId: 'key_01jdbbbbbbbbbbbbbbbbbbbbbb' }, { authorization: `Bearer ${active}` }), {} as never)) as Res;
    expect(res.statusCode).toBe(401);
    const admitted = (await handler(routeEvent({ auth: 'admin', outcome: 'allowed' }), {} as never)) as Res;
    expect(admitted.statusCode).toBe(200);
  });

  it('reads the verdict only from requestContext.authorizer.lambda', () => {
    expect(authorizerContextOf({ requestContext: { authorizer: { lambda: { auth: 'key', outcome: 'refused', detail: 'x' } } } })).toEqual({ auth: 'key', outcome: 'refused', detail: 'x' });
    expect(authorizerContextOf({ requestContext: { authorizer: { jwt: { claims: {} } } } })).toBeUndefined();
    expect(authorizerContextOf({ requestContext: { authorizer: { lambda: { auth: 'key', outcome: 'refused' } } } })).toBeUndefined();
    expect(authorizerContextOf({})).toBeUndefined();
  });
});

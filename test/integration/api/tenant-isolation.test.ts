import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { routesWithModules } from '../../../functions/api/route-modules';
import { eventually } from '../../../infra/local/stack-process';
import { signUp, startTestStack, type Api } from '../../support/local-stack';
import { logger } from '../../../functions/logger';

/**
 * Two accounts; every route the router serves; every way one account could reach the other's data.
 * Iterates over the route table, so a route added later is covered, and a route under a collection
 * this suite cannot yet make a resource of fails until one is added to `makeResource` below.
 */
let stack: Awaited<ReturnType<typeof startTestStack>>;
let owner: Awaited<ReturnType<typeof signUp>> & { email: string };
let intruder: Awaited<ReturnType<typeof signUp>>;
/** The owner's resources by collection (the path segment before `{id}`), and a well-formed id of the same kind that exists nowhere. */
const resources: Record<string, { id: string; absent: string }> = {};

/** How to make one of the owner's resources in each collection that has `{id}` routes. */
const makeResource: Record<string, (api: Api) => Promise<string>> = {
  jobs: async (api) => (await api.post('/v1/jobs', { image: 'a/b:1', command: ['sleep', '20'], gpu_count: 1, max_runtime_seconds: 60 })).body.id,
  'api-keys': async (api) => (await api.post('/v1/api-keys', { name: 'second' })).body.id,
  // The local stack accepts loopback receivers (nothing here resolves public names).
  'webhook-endpoints': async (api) => (await api.post('/v1/webhook-endpoints', { url: 'http://127.0.0.1:9/hook' })).body.id,
  files: async (api) => (await api.post('/v1/files', { filename: 'owner.txt', size: 5 })).body.id,
};

const collectionOf = (path: string) => /\/([a-z-]+)\/\{id\}/.exec(path)?.[1];
const keyRoutes = routesWithModules().filter((r) => r.module.options?.auth === 'key');
const ownerIds = () => [owner.accountId, owner.email, owner.apiKey, ...Object.values(resources).map((r) => r.id)];

beforeAll(async () => {
  stack = await startTestStack();
  owner = { ...(await signUp(stack.url, 'owner@example.com')), email: 'owner@example.com' };
  intruder = await signUp(stack.url, 'intruder@example.com');
  for (const collection of new Set(keyRoutes.map((r) => collectionOf(r.path)).filter((c): c is string => !!c))) {
    const make = makeResource[collection];
    if (!make) throw new Error(`tenant isolation: add a way to make a resource of /${collection} to makeResource`);
    const id = await make(owner.api);
    expect(id, `the owner's ${collection} resource`).toMatch(/^[a-z]+_[0-9a-z]{26}$/);
    resources[collection] = { id, absent: `${id.split('_')[0]}_01${'0'.repeat(24)}` };
  }
  // The job list is a projection: wait until the owner sees its job, so a leak would show.
  await eventually(async () => (await owner.api.get('/v1/jobs')).body.data?.length === 1, 15_000, "the owner's job in its list");
}, 60_000);
afterAll(async () => stack?.drop(), 60_000);

/** The answer with every id and request id masked, to compare "yours" with "nobody's". */
const masked = (res: { status: number; body: unknown }) =>
  JSON.stringify({ status: res.status, body: res.body }).replace(/"request_id":"[^"]*"/g, '').replace(/[a-z]+_[0-9a-z]{26}/g, 'ID');

describe('tenant isolation', () => {
  const byId = keyRoutes.filter((r) => r.path.includes('{id}'));
  it.each(byId.map((r) => [`${r.method} ${r.path}`, r] as const))("%s: another account's resource is 404, exactly as one that does not exist", async (_name, route) => {
    const { id, absent } = resources[collectionOf(route.path)!]!;
    const theirs = await intruder.api.request(route.method, route.path.replace('{id}', id));
    const nobodys = await intruder.api.request(route.method, route.path.replace('{id}', absent));
    expect({ status: theirs.status, type: theirs.body.type, contentType: theirs.type }).toEqual({ status: 404, type: 'not_found', contentType: 'application/problem+json' });
    expect(masked(theirs)).toBe(masked(nobodys));
    for (const secret of ownerIds().filter((s) => s !== id)) expect(JSON.stringify(theirs.body)).not.toContain(secret);
  });

  it("leaves the owner's resources as they were", async () => {
    expect((await owner.api.get(`/v1/jobs/${resources.jobs!.id}`)).body.cancel_requested_at).toBeNull();
    expect((await owner.api.get('/v1/api-keys')).body.data.map((k: { id: string }) => k.id)).toContain(resources['api-keys']!.id);
  });

  const reads = keyRoutes.filter((r) => !r.path.includes('{id}') && r.method === 'GET');
  it.each(reads.map((r) => [`${r.method} ${r.path}`, r] as const))('%s: shows nothing of the other account, whatever the query', async (_name, route) => {
    const queries = [''];
    // A cursor the owner was given, replayed by the intruder, and each list filter.
    const ownerPage = await owner.api.get(`${route.path}?limit=1`);
    if (ownerPage.body?.next_cursor) queries.push(`?cursor=${encodeURIComponent(ownerPage.body.next_cursor)}`);
    const forged = Buffer.from(JSON.stringify({ after: 'zzzz' + ownerIds()[0] })).toString('base64url');
    queries.push(`?cursor=${forged}`, '?status=queued', '?limit=100');
    for (const query of queries) {
      const res = await intruder.api.get(route.path + query);
      expect(res.status, `${route.path}${query}`).toBeLessThan(500);
      for (const secret of ownerIds()) expect(JSON.stringify(res.body), `${route.path}${query}`).not.toContain(secret);
    }
  });

  const adminRoutes = routesWithModules().filter((r) => r.module.options?.auth === 'admin');
  it.each(adminRoutes.map((r) => [`${r.method} ${r.path}`, r] as const))('%s: refuses an account key (401)', async (_name, route) => {
    const res = await owner.api.request(route.method, route.path.replace('{id}', 'x'), route.method === 'GET' ? undefined : {});
    expect({ status: res.status, type: res.body.type }).toEqual({ status: 401, type: 'unauthorized' });
  });

  it('an intruder cannot use the owner id anywhere in a body or query to reach its data', async () => {
    const res = await intruder.api.get(`/v1/jobs?account_id=${owner.accountId}`);
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([expect.objectContaining({ path: 'account_id' })]);
  });
});

describe("the local front runs API Gateway's Lambda authorizer (parity with AWS)", () => {
  afterEach(() => vi.restoreAllMocks());

  /** Counts reads of API key streams; the first `failures` of them fail like a throttled DynamoDB. */
  function watchKeyReads(failures = 0) {
    const store = stack.deps.store;
    const read = store.readStream.bind(store);
    const calls = { keyReads: 0 };
    vi.spyOn(store, 'readStream').mockImplementation(async (streamId, fromVersion) => {
      if (streamId.startsWith('apikey#') && calls.keyReads++ < failures) throw new Error('simulated ProvisionedThroughputExceededException');
      return read(streamId, fromVersion);
    });
    return calls;
  }

  it('reads the key once per request: the route trusts the verdict', async () => {
    const calls = watchKeyReads();
    const res = await owner.api.get('/v1/account');
    expect(res.status).toBe(200);
    expect(res.body.id).toBe(owner.accountId);
    expect(calls.keyReads).toBe(1);
  });

  it('answers a failing authorizer "unverified" and the route authenticates by itself', async () => {
    const logged = vi.spyOn(logger, 'error').mockImplementation(() => undefined);
    const calls = watchKeyReads(1);
    const res = await owner.api.get('/v1/account');
    // Without the authorizer in front, the one read would have failed and the answer been a 500.
    expect(res.status).toBe(200);
    expect(res.body.id).toBe(owner.accountId);
    expect(calls.keyReads).toBe(2);
    expect(logged).toHaveBeenCalledWith(expect.any(String), expect.objectContaining({ authorizer: true, error: expect.objectContaining({ message: expect.stringMatching(/ProvisionedThroughput/) }) }));
  });

  it('refuses a bad key with 401 problem+json (not API Gateway 403), and passes public routes without a verdict', async () => {
    const res = await intruder.api.request('GET', '/v1/account', undefined, { authorization: 'Bearer sk_nope' });
    expect({ status: res.status, type: res.body.type }).toEqual({ status: 401, type: 'unauthorized' });
    const calls = watchKeyReads();
    expect((await fetch(`${stack.url}/v1/openapi.json`)).status).toBe(200);
    expect(calls.keyReads).toBe(0);
  });
});

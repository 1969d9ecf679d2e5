/**
 * The cost of the route middleware chain in process: API-key authentication (a stream read from the
 * in-memory store, SHA-256 and a constant-time compare), the body limit and JSON parsing, zod
 * validation and problem+json error handling, each beside a bare handler timed in the same run.
 * No network or DynamoDB: what is measured is CPU per request in our code.
 */
import { defaultPolicy } from '../domain/policy';
import { CreateJobRequest } from '../events/api/jobs';
import { InMemoryEventStore } from '../functions/adapters/in-memory-event-store';
import { ulidIds, type Deps } from '../functions/deps';
import { newApiKey } from '../functions/http/auth';
import { InMemoryRequestCounter } from '../functions/http/rate-limits';
import { ROOMY_RATE_LIMITS } from '../infra/local/stack-process';
import { json, parse, route, type ApiEvent, type ApiResult } from '../functions/http/route';
import { fmt } from './stats';

const ITERATIONS = 20_000;

async function perRequestMicros(call: () => Promise<ApiResult>, expectStatus: number): Promise<number> {
  for (let i = 0; i < 2_000; i++) await call(); // warm-up (JIT)
  const res = await call();
  if (res.statusCode !== expectStatus) throw new Error(`expected ${expectStatus}, got ${res.statusCode}: ${res.body}`);
  const started = process.hrtime.bigint();
  for (let i = 0; i < ITERATIONS; i++) await call();
  return Number(process.hrtime.bigint() - started) / 1_000 / ITERATIONS;
}

export async function benchMiddleware(): Promise<void> {
  const ids = ulidIds();
  const store = new InMemoryEventStore();
  // Per-key counting runs (in memory: no DynamoDB here), with room for the iterations.
  const deps = { store, policy: defaultPolicy, now: () => new Date(), ids, adminKey: async () => 'x', requestCounter: new InMemoryRequestCounter(), rateLimits: ROOMY_RATE_LIMITS } as unknown as Deps;
  const keyId = ids.apiKey();
  const { apiKey, secretHash } = newApiKey(keyId);
  await store.append([{ streamId: `apikey#${keyId}`, expectedVersion: 0, events: [{ type: 'ApiKeyIssued', data: { keyId, accountId: ids.account(), secretHash, issuedAt: new Date().toISOString() } }] }], { at: new Date().toISOString() });

  const body = JSON.stringify({ name: 'bench', image: 'ghcr.io/acme/train:1', command: ['python', 'train.py', '--epochs', '3'], env: { WANDB_MODE: 'offline' }, gpu_count: 8 });
  const event = (text: string) =>
    ({
      routeKey: 'POST /v1/jobs',
      rawPath: '/v1/jobs',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: text,
      isBase64Encoded: false,
      requestContext: { requestId: 'bench', http: { method: 'POST' } },
    }) as unknown as ApiEvent;
  const ok = event(body);
  const invalid = event(JSON.stringify({ image: 'ghcr.io/acme/train:1', command: ['x'], gpu_count: 9 }));
  const ctx = {} as never;

  // The same work a route does (answer a small JSON), with and without the chain around it.
  const bare = async (_e: ApiEvent): Promise<ApiResult> => json(200, { ok: true });
  const bareValidating = async (e: ApiEvent): Promise<ApiResult> => {
    parse(CreateJobRequest, JSON.parse(e.body!));
    return json(200, { ok: true });
  };
  const chained = route(deps, { auth: 'key' }, async ({ body: b }) => {
    parse(CreateJobRequest, b);
    return json(200, { ok: true });
  });
  const chainedNoAuth = route(deps, { auth: 'none' }, async ({ body: b }) => {
    parse(CreateJobRequest, b);
    return json(200, { ok: true });
  });

  const bareUs = await perRequestMicros(() => bare(ok), 200);
  const bareValidUs = await perRequestMicros(() => bareValidating(ok), 200);
  const noAuthUs = await perRequestMicros(() => chainedNoAuth(ok, ctx) as Promise<ApiResult>, 200);
  const fullUs = await perRequestMicros(() => chained(ok, ctx) as Promise<ApiResult>, 200);
  const rejectedUs = await perRequestMicros(() => chained(invalid, ctx) as Promise<ApiResult>, 400);
  const row = (name: string, us: number) => console.log(`  ${name}: ${fmt(us, 1)} µs/request (${fmt(us - bareUs, 1)} µs over bare; ×${fmt(us / bareUs, 1)})`);
  console.log(`middleware chain, in process, ${ITERATIONS} requests each (POST /v1/jobs body, ${body.length} bytes):`);
  console.log(`  bare handler (no chain, no validation): ${fmt(bareUs, 1)} µs/request`);
  row('bare handler + JSON.parse + zod validation', bareValidUs);
  row('route chain, no auth (errors, body limit, JSON, zod)', noAuthUs);
  row('route chain with API-key auth (in-memory key stream)', fullUs);
  row('route chain with auth, rejected as invalid (400 problem+json)', rejectedUs);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  benchMiddleware().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}

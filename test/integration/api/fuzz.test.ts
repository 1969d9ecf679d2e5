import fc from 'fast-check';
import * as z from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Problem } from '../../../events/api/common';
import { routesWithModules } from '../../../functions/api/route-modules';
import { eventItems, signUp, startTestStack } from '../../support/local-stack';

/**
 * Property-based fuzzing of every route's body, query, path and headers, on the local stack in
 * process (the same handlers, real DynamoDB Local). For every request: no 5xx, every rejection is
 * problem+json with a matching status, and a rejected request leaves the events table as it was.
 * The account's trial is empty, so no fuzzed job can start and write events in the background.
 */
const RUNS = Number(process.env.SX_FUZZ_RUNS ?? 50);

let stack: Awaited<ReturnType<typeof startTestStack>>;
let apiKey: string;
beforeAll(async () => {
  stack = await startTestStack({ policy: { trialGpuSeconds: 0 } });
  apiKey = (await signUp(stack.url, 'fuzz@example.com')).apiKey;
}, 60_000);
afterAll(async () => stack?.drop(), 60_000);

/** Header values fetch can send: visible ASCII, spaces and Latin-1 (not DEL or controls, which it refuses). */
const headerValue = fc
  .string({ unit: fc.integer({ min: 0x20, max: 0xff }).filter((c) => c !== 0x7f).map((c) => String.fromCharCode(c)), maxLength: 300 })
  .map((s) => s.trim());
const someId = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constantFrom('job', 'key', 'acct', 'whe', 'vch').chain((prefix) => fc.stringMatching(/^[0-9a-z]{26}$/).map((rest) => `${prefix}_${rest}`)),
);

/** Field names the route's schema knows (so fuzzed bodies get past "unknown field" to deeper checks). */
const fieldsOf = (schema: z.ZodType | undefined): string[] => {
  if (!schema) return [];
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as { properties?: object; anyOf?: Array<{ properties?: object }> };
  return Object.keys(json.properties ?? json.anyOf?.find((s) => s.properties)?.properties ?? {});
};

const valueArb = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.integer(),
  fc.double(),
  fc.array(fc.string({ maxLength: 20 }), { maxLength: 300 }),
  fc.dictionary(fc.string({ maxLength: 12 }), fc.string({ maxLength: 50 }), { maxKeys: 120 }),
  fc.string({ maxLength: 5000 }),
);

const bodyArb = (fields: string[]) =>
  fc.oneof(
    fc.constant(undefined),
    fc.string({ maxLength: 200 }), // raw text: mostly not JSON
    fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
    fc.constant(`{"a":"${'x'.repeat(70_000)}"}`),
    (fields.length ? fc.dictionary(fc.oneof(fc.constantFrom(...fields), fc.string({ maxLength: 10 })), valueArb, { maxKeys: fields.length + 2 }) : fc.object({ maxDepth: 2 })).map((o) =>
      JSON.stringify(o),
    ),
  );

const queryArb = (fields: string[]) =>
  fc.dictionary(fields.length ? fc.oneof(fc.constantFrom(...fields), fc.string({ maxLength: 8 })) : fc.string({ maxLength: 8 }), fc.string({ maxLength: 600 }), { maxKeys: 4 });

const headersArb = fc.record(
  {
    authorization: fc.oneof(fc.constant('KEY'), fc.constant('KEY'), headerValue, headerValue.map((s) => `Bearer ${s}`), fc.stringMatching(/^sk_[0-9a-z]{26}_[A-Za-z0-9_-]{43}$/).map((k) => `Bearer ${k}`)),
    'content-type': fc.oneof(fc.constant('application/json'), fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'application/problem+json', 'application/json; charset=utf-8'), headerValue),
    'idempotency-key': headerValue,
    'x-forwarded-for': headerValue,
  },
  { requiredKeys: [] },
);

describe('fuzzing every route', () => {
  it.each(routesWithModules().map((r) => [`${r.method} ${r.path}`, r] as const))('%s: no 5xx, problem+json rejections, nothing written', async (_name, route) => {
    const bodyFields = fieldsOf(route.module.schemas.body);
    const queryFields = fieldsOf(route.module.schemas.query);
    // Nothing writes in the background here (no job can start), so the count after one request is
    // the count before the next: one scan per request.
    let count = await eventItems(stack);
    await fc.assert(
      fc.asyncProperty(someId, bodyArb(bodyFields), queryArb(queryFields), headersArb, async (id, body, query, rawHeaders) => {
        const headers: Record<string, string> = Object.fromEntries(
          Object.entries(rawHeaders)
            // 'KEY' stands for the key this route takes (the admin key on admin routes), so requests get past auth.
            .map(([k, v]) => [k, k === 'authorization' && v === 'KEY' ? `Bearer ${route.module.options?.auth === 'admin' ? stack.adminKey : apiKey}` : v])
            .filter(([, v]) => v !== ''),
        );
        const path = route.path.replace('{id}', encodeURIComponent(id) || 'x');
        const search = new URLSearchParams(query).toString();
        const before = count;
        const res = await fetch(`${stack.url}${path}${search ? `?${search}` : ''}`, {
          method: route.method,
          headers,
          ...(body !== undefined && route.method !== 'GET' ? { body } : {}),
        });
        const text = await res.text();
        const where = `${route.method} ${path}?${search} ${res.status} ${text.slice(0, 300)}`;
        count = await eventItems(stack);
        expect(res.status, where).toBeLessThan(500);
        if (res.status >= 400) {
          expect(res.headers.get('content-type'), where).toBe('application/problem+json');
          const problem = Problem.parse(JSON.parse(text));
          expect(problem.status, where).toBe(res.status);
          expect(count, `${where}: a rejected request wrote events`).toBe(before);
        }
      }),
      { numRuns: RUNS, endOnFailure: true },
    );
  }, 120_000);
});

import { describe, expect, it } from 'vitest';
import { routesWithModules } from '../../../functions/api/route-modules';
import { make as makeOpenApi } from '../../../functions/api/get-openapi';
import type { Deps } from '../../../functions/deps';
import { httpRoutes } from '../../../infra/routes';

/** The document as the route serves it. */
async function served() {
  const handler = makeOpenApi({} as Deps);
  const event = { routeKey: 'GET /v1/openapi.json', rawPath: '/v1/openapi.json', headers: {}, requestContext: { requestId: 'r1', http: { method: 'GET' } } };
  const res = (await handler(event as never, {} as never)) as { statusCode: number; headers: Record<string, string>; body: string };
  expect(res.statusCode).toBe(200);
  expect(res.headers['content-type']).toBe('application/json');
  return JSON.parse(res.body);
}

const operations = (doc: { paths: Record<string, Record<string, unknown>> }) =>
  Object.entries(doc.paths).flatMap(([path, methods]) => Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`));

describe('GET /v1/openapi.json', () => {
  it('is an OpenAPI 3.1 document', async () => {
    const doc = await served();
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.jsonSchemaDialect).toBe('https://json-schema.org/draft/2020-12/schema');
  });

  it('describes exactly the routes the router serves, no more and no fewer', async () => {
    expect(operations(await served()).sort()).toEqual(httpRoutes.map((r) => `${r.method} ${r.path}`).sort());
  });

  it.each(routesWithModules().map((r) => [`${r.method} ${r.path}`, r] as const))('%s: body, query, auth and idempotency as its module declares', async (_name, route) => {
    const operation = (await served()).paths[route.path][route.method.toLowerCase()];
    const { schemas, options } = route.module;
    expect(operation.requestBody !== undefined).toBe(schemas.body !== undefined);
    if (schemas.query) expect(operation.parameters.filter((p: { in: string }) => p.in === 'query').length).toBeGreaterThan(0);
    expect(operation.security).toEqual(options!.auth === 'none' ? [] : [{ [options!.auth === 'admin' ? 'adminKey' : 'apiKey']: [] }]);
    expect(operation.parameters?.some((p: { $ref?: string }) => p.$ref === '#/components/parameters/IdempotencyKey') ?? false).toBe(options!.idempotent === true);
    expect(Object.keys(operation.responses)).toContain(String(schemas.status ?? 200));
  });

  it('gives every operation a summary, a description and at least one example', async () => {
    const doc = await served();
    const lacking = routesWithModules().flatMap((route) => {
      const operation = doc.paths[route.path][route.method.toLowerCase()];
      const name = `${route.method} ${route.path}`;
      return [
        ...(operation.summary ? [] : [`${name}: summary`]),
        ...(operation.description ? [] : [`${name}: description`]),
        ...(/"examples?":/.test(JSON.stringify(operation)) ? [] : [`${name}: example`]),
      ];
    });
    expect(lacking).toEqual([]);
  });

  it('rejects unknown fields in every request body (additionalProperties: false)', async () => {
    const doc = await served();
    for (const route of routesWithModules().filter((r) => r.module.schemas.body)) {
      const resolve = (s: { $ref?: string }) => (s.$ref ? doc.components.schemas[s.$ref.slice('#/components/schemas/'.length)] : s);
      const schema = resolve(doc.paths[route.path][route.method.toLowerCase()].requestBody.content['application/json'].schema);
      const object = resolve(schema.anyOf?.find((s: { type?: string; $ref?: string }) => s.type === 'object' || s.$ref) ?? schema);
      expect({ route: route.path, additionalProperties: object.additionalProperties }).toEqual({ route: route.path, additionalProperties: false });
    }
  });
});

describe('every route module', () => {
  it.each(routesWithModules().map((r) => [`${r.method} ${r.path}`, r] as const))('%s declares its guard, and a creating POST takes Idempotency-Key', (_name, route) => {
    expect(route.module.options, 'export const options: RouteOptions from the route module').toBeDefined();
    // A POST answering 201 creates something: API.md says it accepts Idempotency-Key.
    if (route.method === 'POST' && route.module.schemas.status === 201) expect(route.module.options!.idempotent).toBe(true);
  });
});

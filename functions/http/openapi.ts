import * as z from 'zod';
import { Problem } from '../../events/api/common';
import type { RouteOptions } from './route';

/** What every route module exports besides `make` and `handler`. */
export interface RouteModule {
  schemas: {
    body?: z.ZodType;
    query?: z.ZodType;
    response?: z.ZodType;
    /** The success status. @default 200 */
    status?: number;
  };
  options?: RouteOptions;
}

type JsonSchema = Record<string, unknown>;

/** The zod schema as JSON Schema 2020-12 (OpenAPI 3.1's dialect), as the server sees it: input for requests, output for responses. */
function toSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  // The dialect is declared once for the document (`jsonSchemaDialect`), not on every schema.
  const { $schema: _dialect, ...json } = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' }) as JsonSchema;
  return json;
}

const problemResponse = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
});

const errorsOf = (method: string, path: string, module: RouteModule) => {
  const auth = module.options?.auth ?? 'key';
  return {
    ...(module.schemas.body || module.schemas.query || module.options?.idempotent ? { '400': problemResponse('invalid_request: malformed JSON or failed validation, each bad field named in `errors`') } : {}),
    ...(auth !== 'none' ? { '401': problemResponse('unauthorized: a missing, wrong or revoked key') } : {}),
    ...(path.includes('{') ? { '404': problemResponse("not_found: no such resource, or another account's") } : {}),
    ...(module.options?.idempotent
      ? {
          '409': problemResponse('conflict: a request with this Idempotency-Key is still in progress (or the resource already exists)'),
          '422': problemResponse('idempotency_key_reuse: the Idempotency-Key was used with another request in the last 24 h'),
        }
      : {}),
    ...(method === 'POST' || method === 'PUT' || method === 'PATCH' ? { '413': problemResponse('payload_too_large: bodies are limited to 64 KiB') } : {}),
    '429': problemResponse('rate_limited: a quota is used up; see Retry-After'),
  };
};

/**
 * The OpenAPI 3.1 document of the HTTP API, built from the route table and the zod schemas each route
 * module declares, so it describes exactly what the server validates with. Path parameters come
 * from the `{name}` segments of the path; query parameters from the query schema's properties.
 * @throws Error if a query schema is not an object schema (a defect in a route module).
 */
export function buildOpenApi(routes: ReadonlyArray<{ method: string; path: string; handler: string; module: RouteModule }>, info: { version: string }) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const { method, path, handler, module } of routes) {
    const { body, query, response, status = 200 } = module.schemas;
    const auth = module.options?.auth ?? 'key';
    const parameters: unknown[] = [...path.matchAll(/\{(\w+)\}/g)].map(([, name]) => ({ name, in: 'path', required: true, schema: { type: 'string' } }));
    if (query) {
      const schema = toSchema(query, 'input');
      if (schema.type !== 'object') throw new Error(`${method} ${path}: the query schema must be an object`);
      const required = new Set((schema.required as string[] | undefined) ?? []);
      for (const [name, property] of Object.entries((schema.properties as Record<string, JsonSchema>) ?? {})) {
        parameters.push({ name, in: 'query', required: required.has(name), schema: property });
      }
    }
    if (module.options?.idempotent) {
      parameters.push({
        name: 'Idempotency-Key',
        in: 'header',
        required: false,
        description: 'Makes the request safe to retry: the first response is replayed for 24 h; another body under the same key is 422.',
        schema: { type: 'string', minLength: 1, maxLength: 255 },
      });
    }
    const bodySchema = body ? toSchema(body, 'input') : undefined;
    paths[path] ??= {};
    paths[path]![method.toLowerCase()] = {
      operationId: handler.replace(/^api\//, '').replace(/-(\w)/g, (_m, c: string) => c.toUpperCase()),
      security: auth === 'none' ? [] : [{ [auth === 'admin' ? 'adminKey' : 'apiKey']: [] }],
      ...(parameters.length ? { parameters } : {}),
      ...(bodySchema
        ? {
            requestBody: {
              // An optional body schema (`.optional()`) accepts no body at all.
              required: body!.safeParse(undefined).success === false,
              content: { 'application/json': { schema: bodySchema } },
            },
          }
        : {}),
      responses: {
        [String(status)]: response
          ? { description: 'OK', content: { 'application/json': { schema: toSchema(response, 'output') } } }
          : status === 204
            ? { description: 'No content' }
            : { description: 'OK' },
        ...errorsOf(method, path, module),
        '500': problemResponse('internal_error: a defect; the request id is logged'),
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'suanxiang-cloud (算想云) API', version: info.version },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    servers: [{ url: '/' }],
    paths,
    components: {
      schemas: { Problem: toSchema(Problem, 'output') },
      securitySchemes: {
        apiKey: { type: 'http', scheme: 'bearer', description: 'An account API key, `sk_…`' },
        adminKey: { type: 'http', scheme: 'bearer', description: 'The deployment admin key' },
      },
    },
  };
}

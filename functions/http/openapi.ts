import * as z from 'zod';
import { Problem, problemStatuses, type ProblemType } from '../../events/api/common';
import type { OperationDocs } from '../api/operation-docs';
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

/** The methods whose body the server reads (route.ts ignores a body on the others). */
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

/**
 * Named schemas (`.meta({ id })` on the zod schema) become `components.schemas`; every conversion adds
 * the ones it meets. A request (input) schema named like a response (output) one but different, e.g.
 * with defaults that make fields optional, is named `<id>Input`.
 */
class Components {
  readonly schemas: Record<string, JsonSchema> = {};

  /** The zod schema as JSON Schema 2020-12 (OpenAPI 3.1's dialect), as the server sees it: input for requests, output for responses. */
  convert(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
    const { $schema: _dialect, $defs, ...json } = z.toJSONSchema(schema, {
      target: 'draft-2020-12',
      io,
      unrepresentable: 'any',
      // `format: date-time` says it; zod's equivalent regex would only bury it.
      override: ({ jsonSchema }) => {
        if (jsonSchema.format === 'date-time') delete jsonSchema.pattern;
      },
    }) as JsonSchema & { $defs?: Record<string, JsonSchema> };
    const names = new Map<string, string>();
    for (const [id, def] of Object.entries($defs ?? {})) {
      const taken = (name: string) => this.schemas[name] !== undefined && JSON.stringify(this.schemas[name]) !== JSON.stringify(rewrite(def, names));
      names.set(id, taken(id) ? `${id}Input` : id);
    }
    for (const [id, def] of Object.entries($defs ?? {})) {
      const name = names.get(id)!;
      const value = rewrite(def, names);
      if (this.schemas[name] !== undefined && JSON.stringify(this.schemas[name]) !== JSON.stringify(value)) {
        throw new Error(`Two different schemas are named ${name}`);
      }
      this.schemas[name] = value as JsonSchema;
    }
    return rewrite(json, names) as JsonSchema;
  }
}

/** `#/$defs/X` (zod's) → `#/components/schemas/<name of X>`, in a copy. */
function rewrite(value: unknown, names: Map<string, string>): unknown {
  if (Array.isArray(value)) return value.map((v) => rewrite(v, names));
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, v]) =>
      key === '$ref' && typeof v === 'string' && v.startsWith('#/$defs/')
        ? [key, `#/components/schemas/${names.get(v.slice('#/$defs/'.length)) ?? v.slice('#/$defs/'.length)}`]
        : [key, rewrite(v, names)],
    ),
  );
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

/** Response headers, declared once under `components.headers`. */
const headers = {
  Location: { description: 'Where the created resource (or, for a download, its bytes) is.', required: true, schema: { type: 'string' }, example: '/v1/jobs/job_01jdq8m5x2v7k9a3b4c6d8e0fg' },
  RetryAfter: { description: 'Seconds to wait before retrying.', schema: { type: 'integer', minimum: 0 }, example: 30 },
  IdempotentReplayed: {
    description: 'Present (`true`) when this is the saved answer to an earlier request with the same Idempotency-Key.',
    schema: { type: 'string', enum: ['true'] },
    example: 'true',
  },
  RequestId: { description: 'The request\'s id, as logged: quote it when reporting a problem.', schema: { type: 'string' }, example: '5f0c6a52-8a4e-4c39-9d43-0b1f1b1c2d3e' },
  WwwAuthenticate: { description: 'The scheme the API expects.', schema: { type: 'string', enum: ['Bearer'] }, example: 'Bearer' },
};
const header = (name: keyof typeof headers) => ({ $ref: `#/components/headers/${name}` });

/** The problems an operation can answer, from its method, path, schemas and options, and its docs. */
export function problemsOf(method: string, path: string, module: RouteModule, docs: Pick<OperationDocs, 'problems'>): Set<ProblemType> {
  const auth = module.options?.auth ?? 'key';
  const readsBody = BODY_METHODS.has(method);
  const problems = new Set<ProblemType>(docs.problems ?? []);
  // A body that is not valid JSON, a failed validation of body or query, or a bad Idempotency-Key.
  if (readsBody || module.schemas.query || module.options?.idempotent) problems.add('invalid_request');
  if (auth !== 'none') problems.add('unauthorized');
  // An operator can suspend the account a key belongs to: every keyed route then answers 403.
  if (auth === 'key') problems.add('account_suspended');
  if (path.includes('{')) problems.add('not_found');
  // A write can lose a race it does not retry away, and an Idempotency-Key can be in use by a request in flight.
  if (method !== 'GET' || module.options?.idempotent) problems.add('conflict');
  if (readsBody) {
    problems.add('payload_too_large');
    problems.add('unsupported_media_type');
  }
  if (module.options?.idempotent) problems.add('idempotency_key_reuse');
  // Per key and per source of failed authentications; a public route only with a limit of its own
  // (API Gateway's stage throttle can answer any route with 429 too: see `throttled`).
  if (auth !== 'none' || module.options?.sourceLimit) problems.add('rate_limited');
  problems.add('internal_error');
  return problems;
}

/**
 * API Gateway's stage throttle answers any route, before any of ours runs, with 429 and its own body
 * (`{"message":"Too Many Requests"}`, not a problem); the local stack never does.
 */
const throttled = {
  'application/json': {
    schema: ref('GatewayMessage'),
    example: { message: 'Too Many Requests' },
  },
};

/** The problem+json answer of one status, its `type` narrowed to the ones this operation gives with it. */
function problemResponse(status: number, types: ProblemType[], descriptions: Record<ProblemType, string>, idempotent: boolean) {
  return {
    description: types.map((t) => `\`${t}\`: ${descriptions[t]}`).join(' '),
    headers: {
      'X-Request-Id': header('RequestId'),
      ...(status === 401 ? { 'WWW-Authenticate': header('WwwAuthenticate') } : {}),
      ...(status === 429 || (status === 409 && idempotent) ? { 'Retry-After': header('RetryAfter') } : {}),
      ...(idempotent ? { 'Idempotent-Replayed': header('IdempotentReplayed') } : {}),
    },
    content: {
      'application/problem+json': {
        schema: { allOf: [ref('Problem'), { type: 'object', properties: { type: { enum: types }, status: { const: status } } }] },
        example: { type: types[0], title: titleOf(types[0]!), status, detail: descriptions[types[0]!].split(/(?<=\.) /)[0], request_id: '5f0c6a52-8a4e-4c39-9d43-0b1f1b1c2d3e' },
      },
    },
  };
}

const titleOf = (type: string) => type.charAt(0).toUpperCase() + type.slice(1).replaceAll('_', ' ');

/** The id a path parameter's example gets: by the collection it names an item of. */
function pathExample(path: string, name: string, examples: Record<string, string>): string {
  const segments = path.split('/');
  const at = segments.indexOf(`{${name}}`);
  return examples[segments[at - 1] ?? ''] ?? 'x';
}

/**
 * An example value for a schema: its own `examples` first, else built from its type (all properties of
 * a response; a request's required ones). The tests check every example against the document and a
 * request's against the zod schema the server parses with.
 */
export function exampleOf(schema: JsonSchema, components: Record<string, JsonSchema>, required = false, depth = 0): unknown {
  if (depth > 12) return null;
  const next = (s: unknown) => exampleOf(s as JsonSchema, components, required, depth + 1);
  if (Array.isArray(schema.examples) && schema.examples.length) return schema.examples[0];
  if (typeof schema.$ref === 'string') return next(components[schema.$ref.slice('#/components/schemas/'.length)]);
  if ('const' in schema) return schema.const;
  if (Array.isArray(schema.enum)) return schema.enum[0];
  if (schema.default !== undefined) return schema.default;
  const branches = (schema.anyOf ?? schema.oneOf) as JsonSchema[] | undefined;
  if (branches) return next(branches.find((b) => b.type !== 'null') ?? branches[0]);
  if (Array.isArray(schema.allOf)) return next(schema.allOf[0]);
  switch (schema.type) {
    case 'object': {
      const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
      const needed = new Set((schema.required as string[] | undefined) ?? []);
      return Object.fromEntries(Object.entries(properties).filter(([name]) => !required || needed.has(name)).map(([name, s]) => [name, next(s)]));
    }
    case 'array':
      return (schema.minItems as number | undefined) === 0 && required ? [] : [next(schema.items)];
    case 'string':
      return schema.format === 'date-time' ? '2026-11-25T12:00:00.000Z' : schema.format === 'email' ? 'ada@example.com' : 'string';
    case 'integer':
    case 'number': {
      const min = (schema.minimum as number | undefined) ?? 0;
      return Math.min(Math.max(min, schema.type === 'integer' ? 1 : 0.5), (schema.maximum as number | undefined) ?? Infinity);
    }
    case 'boolean':
      return true;
    case 'null':
      return null;
    default:
      return null;
  }
}

export interface DocumentInfo {
  version: string;
  docs: Record<string, OperationDocs>;
  tags: ReadonlyArray<{ name: string; description: string }>;
  problemDescriptions: Record<ProblemType, string>;
  pathParameterExamples: Record<string, string>;
  /** Event types with the component describing each one's webhook body. */
  webhooks: ReadonlyArray<{ type: string; summary: string; payload: z.ZodType }>;
}

/**
 * The OpenAPI 3.1 document of the HTTP API, built from the route table and the zod schemas each route
 * module declares, so it describes exactly what the server validates with. Path parameters come from
 * the `{name}` segments of the path; query parameters from the query schema's properties; the statuses
 * and problem types from the route's method, path, schemas and options plus its docs' `problems`.
 * @throws Error if a query schema is not an object schema, or a route has no docs (defects in a route module).
 */
export function buildOpenApi(routes: ReadonlyArray<{ method: string; path: string; handler: string; module: RouteModule }>, info: DocumentInfo) {
  const components = new Components();
  components.convert(Problem, 'output');
  // Responses first, so that the names go to what clients read; requests that differ get `…Input`.
  const responses = new Map(routes.map((r) => [r, r.module.schemas.response ? components.convert(r.module.schemas.response, 'output') : undefined]));
  const payloads = info.webhooks.map((w) => ({ ...w, schema: components.convert(w.payload, 'output') }));
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const { method, path, handler, module } = route;
    const docs = info.docs[handler];
    if (!docs) throw new Error(`${method} ${path}: no docs for ${handler}`);
    const { body, query, status = 200 } = module.schemas;
    const auth = module.options?.auth ?? 'key';
    const idempotent = module.options?.idempotent === true;
    const parameters: unknown[] = [...path.matchAll(/\{(\w+)\}/g)].map(([, name]) => ({
      name,
      in: 'path',
      required: true,
      schema: { type: 'string' },
      example: pathExample(path, name!, info.pathParameterExamples),
    }));
    if (query) {
      const schema = components.convert(query, 'input');
      if (schema.type !== 'object') throw new Error(`${method} ${path}: the query schema must be an object`);
      const required = new Set((schema.required as string[] | undefined) ?? []);
      for (const [name, property] of Object.entries((schema.properties as Record<string, JsonSchema>) ?? {})) {
        const { description, ...rest } = property;
        parameters.push({ name, in: 'query', required: required.has(name), ...(description ? { description } : {}), schema: rest });
      }
    }
    if (idempotent) parameters.push({ $ref: '#/components/parameters/IdempotencyKey' });
    const bodySchema = body ? components.convert(body, 'input') : undefined;
    const responseSchema = responses.get(route);
    const successHeaders = {
      ...(docs.location || status === 302 ? { Location: header('Location') } : {}),
      ...(idempotent ? { 'Idempotent-Replayed': header('IdempotentReplayed') } : {}),
    };
    const success = {
      description: docs.summary.replace(/ \(admin\)$/, '') + (status === 302 ? ': the redirect' : status === 204 ? ': done, no content' : ''),
      ...(Object.keys(successHeaders).length ? { headers: successHeaders } : {}),
      ...(responseSchema
        ? { content: { 'application/json': { schema: responseSchema, example: docs.examples?.response ?? exampleOf(responseSchema, components.schemas) } } }
        : docs.content
          ? { content: { [docs.content.mediaType]: { schema: docs.content.schema, example: docs.content.example } } }
          : {}),
    };
    const byStatus = new Map<number, ProblemType[]>();
    for (const type of problemsOf(method, path, module, docs)) byStatus.set(problemStatuses[type], [...(byStatus.get(problemStatuses[type]) ?? []), type]);
    paths[path] ??= {};
    paths[path]![method.toLowerCase()] = {
      operationId: handler.replace(/^api\//, '').replace(/-(\w)/g, (_m, c: string) => c.toUpperCase()),
      summary: docs.summary,
      ...(docs.description ? { description: docs.description } : {}),
      tags: [docs.tag],
      security: auth === 'none' ? [] : [{ [auth === 'admin' ? 'adminKey' : 'apiKey']: [] }],
      ...(parameters.length ? { parameters } : {}),
      ...(bodySchema
        ? {
            requestBody: {
              // An optional body schema (`.optional()`) accepts no body at all.
              required: body!.safeParse(undefined).success === false,
              content: { 'application/json': { schema: bodySchema, example: docs.examples?.request ?? exampleOf(bodySchema, components.schemas, true) } },
            },
          }
        : {}),
      responses: {
        [String(status)]: success,
        ...Object.fromEntries([...byStatus].sort(([a], [b]) => a - b).map(([s, types]) => [String(s), problemResponse(s, types, info.problemDescriptions, idempotent)])),
        '429': byStatus.has(429)
          ? (() => {
              const ours = problemResponse(429, byStatus.get(429)!, info.problemDescriptions, idempotent);
              return { ...ours, description: `${ours.description} In AWS the gateway's throttle may answer first, with \`{"message":"Too Many Requests"}\`.`, content: { ...ours.content, ...throttled } };
            })()
          : { description: 'In AWS, the gateway\'s throttle: `{"message":"Too Many Requests"}`.', content: throttled },
      },
    };
  }
  const webhooks = Object.fromEntries(
    payloads.map(({ type, summary, schema }) => [
      type,
      {
        post: {
          operationId: `webhook${type.replace(/(^|[._])(\w)/g, (_m, _s, c: string) => c.toUpperCase())}`,
          summary,
          description: `Sent to every enabled endpoint subscribed to \`${type}\` (or to \`*\`), signed per Standard Webhooks. At least once: dedupe on \`webhook-id\`.`,
          tags: ['Webhook endpoints'],
          security: [],
          parameters: [{ $ref: '#/components/parameters/WebhookId' }, { $ref: '#/components/parameters/WebhookTimestamp' }, { $ref: '#/components/parameters/WebhookSignature' }],
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: { allOf: [schema, { type: 'object', properties: { type: { const: type } } }] },
                example: { ...(exampleOf(schema, components.schemas) as object), type },
              },
            },
          },
          responses: {
            '200': { description: 'Any 2xx acknowledges the delivery; anything else, or no answer within 15 s, is retried with exponential backoff for at least 24 h.' },
            '410': { description: 'Gone: the endpoint is disabled and gets no further deliveries.' },
          },
        },
      },
    ]),
  );
  return {
    openapi: '3.1.0',
    info: {
      title: 'suanxiang-cloud (算想云) API',
      version: info.version,
      summary: 'Serverless LLM training on A100s, billed by the GPU-second.',
      description:
        'JSON over HTTPS. Authenticate with `Authorization: Bearer <api key>`. Errors are RFC 9457 problem details (`application/problem+json`) whose `type` is one of `ProblemType`. Lists are newest first, paged with `limit` and `cursor`. Times are ISO 8601 UTC; money is integer minor units with a currency.',
      license: { name: 'Proprietary', identifier: 'LicenseRef-Proprietary' },
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    servers: [{ url: '/', description: 'The origin this document is served from' }],
    tags: info.tags,
    paths,
    webhooks,
    components: {
      schemas: Object.fromEntries(
        Object.entries({
          ...components.schemas,
          GatewayMessage: {
            type: 'object',
            description: 'API Gateway\'s own answer when it refuses a request before the API sees it (e.g. its throttle).',
            properties: { message: { type: 'string' } },
            required: ['message'],
          },
        }).sort(([a], [b]) => a.localeCompare(b)),
      ),
      headers,
      parameters: {
        IdempotencyKey: {
          name: 'Idempotency-Key',
          in: 'header',
          required: false,
          description: 'Makes the request safe to retry: the first answer is replayed for 24 h (with `Idempotent-Replayed: true`); another body under the same key is 422 `idempotency_key_reuse`.',
          schema: { type: 'string', minLength: 1, maxLength: 255 },
          example: '9d3c1a7e-2f4b-4c8e-a1d2-7b6e5f4c3a21',
        },
        WebhookId: { name: 'webhook-id', in: 'header', required: true, description: 'The delivery\'s id: the same on every attempt.', schema: { type: 'string' }, example: 'msg_01jdq8r5f701jdq8r5f7y9a1c3' },
        WebhookTimestamp: { name: 'webhook-timestamp', in: 'header', required: true, description: 'Unix seconds when the attempt was signed.', schema: { type: 'string', pattern: '^[0-9]+$' }, example: '1764072000' },
        WebhookSignature: {
          name: 'webhook-signature',
          in: 'header',
          required: true,
          description: 'Space-separated `v1,<base64 HMAC-SHA256>` of `id.timestamp.body` with each signing secret (two while a rotated-out one still signs).',
          schema: { type: 'string' },
          example: 'v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=',
        },
      },
      securitySchemes: {
        apiKey: { type: 'http', scheme: 'bearer', description: 'An account API key, `sk_…`' },
        adminKey: { type: 'http', scheme: 'bearer', description: 'The deployment admin key' },
      },
    },
  };
}

import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { openApiObject } from '../../functions/api/openapi-document';

/**
 * Checks HTTP answers against the OpenAPI document the server serves: the status must be one the
 * operation documents, the media type one of that response's, the body valid against its schema
 * (Ajv, JSON Schema 2020-12, the document's own components) and the declared headers present and
 * valid. Built from the live document, so a route added to the table is checked with no more work.
 */

type Json = Record<string, unknown>;
type Document = ReturnType<typeof openApiObject>;

export interface Exchange {
  method: string;
  /** The path as requested (`/v1/jobs/job_…`), without the query. */
  path: string;
  status: number;
  headers: Headers | Record<string, string | number | undefined>;
  /** The body as text ('' when there is none). */
  body: string;
}

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

/** The documented operation a request reaches, by method and path (literal segments before parameters, as a router does). */
function operationMatcher(doc: Document) {
  const templates = Object.keys(doc.paths).map((template) => ({
    template,
    pattern: new RegExp(`^${template.replace(/\{\w+\}/g, '[^/]+')}$`),
    // Fewer parameters first: /v1/files/{id} before a template that would take "files" as a parameter.
    params: (template.match(/\{/g) ?? []).length,
  }));
  templates.sort((a, b) => a.params - b.params);
  return (method: string, path: string) => {
    for (const { template, pattern } of templates) {
      const operation = (doc.paths as Record<string, Record<string, Json>>)[template]![method.toLowerCase()];
      if (operation && pattern.test(path)) return { template, operation };
    }
    return null;
  };
}

/** The document's `#/components/schemas/X` refs as refs Ajv resolves: `openapi.json#/$defs/X`. */
function absolute(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(absolute);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [
      k,
      k === '$ref' && typeof v === 'string' && v.startsWith('#/components/schemas/') ? `openapi.json#/$defs/${v.slice('#/components/schemas/'.length)}` : absolute(v),
    ]),
  );
}

export class OpenApiContract {
  readonly doc: Document;
  private readonly ajv: Ajv2020;
  private readonly compiled = new Map<unknown, ValidateFunction>();
  private readonly match: ReturnType<typeof operationMatcher>;

  constructor(doc: Document = openApiObject()) {
    this.doc = doc;
    // Strict, as an integrator's tooling would be; `example` is OpenAPI's keyword, not JSON Schema's.
    this.ajv = new Ajv2020({ strict: true, allErrors: true, allowUnionTypes: true });
    addFormats(this.ajv);
    this.ajv.addKeyword('example');
    this.ajv.addSchema({ $id: 'openapi.json', $defs: absolute(doc.components.schemas) } as Json);
    this.match = operationMatcher(doc);
  }

  /** Compiles (once) a schema of the document. */
  validator(schema: unknown): ValidateFunction {
    let validate = this.compiled.get(schema);
    if (!validate) {
      validate = this.ajv.compile(absolute(schema) as Json);
      this.compiled.set(schema, validate);
    }
    return validate;
  }

  /** The operation a request reaches, or null for a path the API does not document (the console, a fake route). */
  operation(method: string, path: string) {
    return this.match(method, path);
  }

  /**
   * What is wrong with an answer, as readable lines (none: it is as documented). An answer to a
   * request no operation takes is not the document's to judge: `[]`.
   */
  check(exchange: Exchange): string[] {
    const found = this.match(exchange.method, exchange.path);
    if (!found) return [];
    const where = `${exchange.method} ${exchange.path} (${exchange.method} ${found.template}) → ${exchange.status}`;
    const responses = found.operation.responses as Record<string, Json>;
    const response = responses[String(exchange.status)] ?? responses[`${String(exchange.status)[0]}XX`] ?? responses.default;
    if (!response) return [`${where}: undocumented status (documented: ${Object.keys(responses).join(', ')}); body ${exchange.body.slice(0, 300)}`];
    const errors: string[] = [];
    const header = (name: string) => {
      const h = exchange.headers;
      if (h instanceof Headers) return h.get(name) ?? undefined;
      const value = Object.entries(h).find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1];
      return value === undefined ? undefined : String(value);
    };
    for (const [name, declared] of Object.entries((response.headers ?? {}) as Record<string, Json>)) {
      const spec = this.resolve(declared);
      const value = header(name);
      if (value === undefined) {
        if (spec.required) errors.push(`${where}: required header ${name} is missing`);
        continue;
      }
      const schema = spec.schema as Json;
      const typed = schema.type === 'integer' && /^-?\d+$/.test(value) ? Number(value) : value;
      if (!this.validator(schema)(typed)) errors.push(`${where}: header ${name}: ${JSON.stringify(value)} ${this.ajv.errorsText(this.validator(schema).errors)}`);
    }
    const content = response.content as Record<string, Json> | undefined;
    const type = header('content-type')?.split(';')[0]!.trim().toLowerCase();
    if (!content) {
      if (exchange.body !== '') errors.push(`${where}: a body where the document says none: ${exchange.body.slice(0, 200)}`);
      return errors;
    }
    const media = type ? content[type] : undefined;
    if (!media) return [...errors, `${where}: media type ${type ?? '(none)'} is not documented (documented: ${Object.keys(content).join(', ')})`];
    let body: unknown = exchange.body;
    if (type === 'application/json' || type?.endsWith('+json')) {
      try {
        body = JSON.parse(exchange.body);
      } catch {
        return [...errors, `${where}: the ${type} body is not JSON: ${exchange.body.slice(0, 200)}`];
      }
    }
    const validate = this.validator(media.schema);
    if (!validate(body)) {
      errors.push(`${where}: the body does not match the document: ${this.ajv.errorsText(validate.errors, { separator: '; ' })}; body ${exchange.body.slice(0, 500)}`);
    }
    return errors;
  }

  /** A `$ref` to `#/components/<kind>/<name>`, resolved. */
  resolve(value: Json): Json {
    const target = value.$ref;
    if (typeof target !== 'string') return value;
    const [, , kind, name] = target.split('/');
    return (this.doc.components as unknown as Record<string, Record<string, Json>>)[kind!]![name!]!;
  }
}

let shared: OpenApiContract | undefined;
/** One contract per test file (compiling the document's schemas is the slow part). */
export const openApiContract = () => (shared ??= new OpenApiContract());

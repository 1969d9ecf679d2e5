import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openApiDocument } from '../../../functions/api/openapi-document';
import { describeSchema, renderApiReference } from '../../../infra/docs/api-reference';

describe('the API reference in docs/api.md', () => {
  it('is the rendering of the served OpenAPI document (run `npm run docs:api` after changing a route)', async () => {
    const written = await readFile(join(import.meta.dirname, '..', '..', '..', 'docs', 'api.md'), 'utf8');
    expect(written).toBe(renderApiReference(JSON.parse(openApiDocument())));
  });

  it('names every route of the document', () => {
    const document = JSON.parse(openApiDocument());
    const text = renderApiReference(document);
    for (const [path, item] of Object.entries<Record<string, unknown>>(document.paths)) {
      for (const method of Object.keys(item)) expect(text).toContain(`### ${method.toUpperCase()} ${path}\n`);
    }
  });

  it('says a schema in a few words', () => {
    expect(describeSchema({ type: 'integer', minimum: 1, maximum: 100, default: 20 })).toBe('integer 1–100, default 20');
    expect(describeSchema({ type: 'string', enum: ['queued', 'running'] })).toBe('"queued" | "running"');
    expect(describeSchema({ type: 'string', format: 'date-time' })).toBe('string (date-time)');
    expect(describeSchema({ type: 'array', items: { $ref: '#/components/schemas/Problem' } })).toBe('array of Problem');
    expect(describeSchema({ type: 'string', maxLength: 512 })).toBe('string ≤ 512 chars');
  });
});

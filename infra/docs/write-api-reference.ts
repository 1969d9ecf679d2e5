import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openApiDocument } from '../../functions/api/openapi-document';
import { renderApiReference } from './api-reference';

/** `npm run docs:api`: writes docs/api.md from the served OpenAPI document. */
const target = join(import.meta.dirname, '..', '..', 'docs', 'api.md');
await writeFile(target, renderApiReference(JSON.parse(openApiDocument())));
console.log(`wrote ${target}`);

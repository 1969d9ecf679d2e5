import type { Deps } from '../deps';
import { route } from '../http/route';
import { lambda } from '../lambda';
import { openApiDocument } from './openapi-document';
import { openApiModule } from './openapi-route';

/** The body is the OpenAPI document itself (a JSON Schema of it would add nothing). */
export const schemas = openApiModule.schemas;
export const options = openApiModule.options;

/**
 * GET /v1/openapi.json (no auth): the OpenAPI 3.1 document, from `openapi-document.ts`: built once per
 * process on the local stack, prerendered into the Lambda bundle.
 */
export const make = (deps: Deps) => {
  let document: string | undefined;
  return route(deps, options, async () => {
    document ??= openApiDocument();
    return { statusCode: 200, headers: { 'content-type': 'application/json', 'cache-control': 'public, max-age=300', 'x-content-type-options': 'nosniff' }, body: document };
  });
};

export const handler = lambda(make);

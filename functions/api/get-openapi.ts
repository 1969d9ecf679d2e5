import type { Deps } from '../deps';
import { buildOpenApi } from '../http/openapi';
import { route } from '../http/route';
import { lambda } from '../lambda';
import { openApiModule, routesWithModules } from './route-modules';

/** The body is the OpenAPI document itself (a JSON Schema of it would add nothing). */
export const schemas = openApiModule.schemas;
export const options = openApiModule.options!;

/** The document's version: bump it with any change to the contract. */
export const API_VERSION = '1.0.0';

/** GET /v1/openapi.json (no auth): the OpenAPI 3.1 document, built once per container from the route table and the zod schemas. */
export const make = (deps: Deps) => {
  let document: string | undefined;
  return route(deps, options, async () => {
    document ??= JSON.stringify(buildOpenApi(routesWithModules(), { version: API_VERSION }));
    return { statusCode: 200, headers: { 'content-type': 'application/json', 'cache-control': 'public, max-age=300', 'x-content-type-options': 'nosniff' }, body: document };
  });
};

export const handler = lambda(make);

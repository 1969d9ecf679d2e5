import { buildOpenApi } from '../http/openapi';
import { routesWithModules } from './route-modules';

/** The document's version: bump it with any change to the contract. */
export const API_VERSION = '1.0.0';

/**
 * The OpenAPI document exactly as `GET /v1/openapi.json` serves it (JSON text), built from the route
 * table and every route module's zod schemas. It depends on code only, so the Lambda bundle of
 * `api/get-openapi` replaces this module with the text computed at bundle time (`infra/cdk/bundling.ts`)
 * and carries neither the route modules nor their schemas; the local stack and the tests build it live.
 * Both must give the same text (test/unit/infra/openapi-prerender.test.ts).
 * @throws Error if a route module's schemas cannot be described (a defect, caught by the tests).
 */
export function openApiDocument(): string {
  return JSON.stringify(buildOpenApi(routesWithModules(), { version: API_VERSION }));
}

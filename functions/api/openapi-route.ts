import type { RouteModule } from '../http/openapi';

/**
 * The OpenAPI route's own module description (public, no input, the document as its body): in a
 * module of its own so that `get-openapi` can declare it without importing every route module, which
 * its Lambda bundle does not need (it serves the document prerendered at bundle time).
 */
export const openApiModule = { schemas: {}, options: { auth: 'none' } } satisfies RouteModule;

import { describe, expect, it } from 'vitest';
import { factories } from '../../../infra/local/handlers';
import { httpRoutes } from '../../../infra/routes';

/**
 * Every HTTP route module declares its wire schemas (from events/api/) as `schemas`, so the OpenAPI
 * document and the SDK can be derived from what the server validates with.
 */
describe('route modules', () => {
  it.each(httpRoutes.map((r) => [`${r.method} ${r.path}`, r.handler] as const))('%s exports its schemas', async (_route, handler) => {
    const module = await import(/* @vite-ignore */ new URL(`../../../functions/${handler}.ts`, import.meta.url).href);
    expect(module.schemas).toBeTypeOf('object');
    expect(module.make).toBe(factories[handler]);
    expect(module.handler).toBeTypeOf('function');
  });
});

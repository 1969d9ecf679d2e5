import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { httpRoutes } from '../../../infra/routes';

/**
 * Every route the server serves has an SDK method, so a route added to infra/routes.ts without one
 * fails here rather than being found missing by a customer. Read from the client's source: each
 * method is one `this.request(METHOD, PATH, …)` call, with path parameters as `${…}`.
 */
describe('the SDK covers the API', () => {
  const source = readFileSync(new URL('../../../sdk/client.ts', import.meta.url), 'utf8');
  const called = new Set(
    [...source.matchAll(/this\.request\(\s*'([A-Z]+)',\s*[`'](\/v1\/[^`']*)[`']/g)].map(([, method, path]) => `${method} ${path!.replace(/\$\{[^}]*\}/g, '{}')}`),
  );

  it.each(httpRoutes.map((r) => `${r.method} ${r.path}`))('%s has a method', (route) => {
    expect(called).toContain(route.replace(/\{[^}]+\}/g, '{}'));
  });

  it('calls no route the server lacks', () => {
    const served = new Set(httpRoutes.map((r) => `${r.method} ${r.path.replace(/\{[^}]+\}/g, '{}')}`));
    expect([...called].filter((route) => !served.has(route))).toEqual([]);
  });
});

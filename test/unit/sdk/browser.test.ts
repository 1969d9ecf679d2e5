import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

/**
 * The SDK must run in browsers: bundling it for the browser platform fails on any Node built-in
 * (node:*, fs, crypto…) that it, events/api or a dependency imports.
 */
describe('the SDK in a browser', () => {
  it('bundles for the browser platform with no Node built-ins', async () => {
    const result = await build({
      entryPoints: [new URL('../../../sdk/index.ts', import.meta.url).pathname],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      target: 'es2022',
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    expect(result.errors).toEqual([]);
    const inputs = Object.keys(result.metafile!.inputs);
    expect(inputs.filter((path) => /^(node:|fs$|crypto$|path$|os$)/.test(path))).toEqual([]);
    // It is the SDK, the API's own schemas and the verification library that went in, nothing of the server.
    expect(inputs.some((path) => path.startsWith('events/api/'))).toBe(true);
    expect(inputs.some((path) => path.includes('standardwebhooks'))).toBe(true);
    expect(inputs.filter((path) => /^(functions|domain|infra|cli)\//.test(path))).toEqual([]);
  });
});

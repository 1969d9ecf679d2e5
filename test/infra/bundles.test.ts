import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleHandlers, REPO_ROOT, type Bundle } from '../../infra/cdk/bundling';
import { handlerNames } from '../../infra/cdk/stateless-stack';
import { make as makeOpenApi } from '../../functions/api/get-openapi';
import type { Deps } from '../../functions/deps';
import { SYNTH_TIMEOUT_MS } from './cdk-app';

/** The text of a bundle's code files, joined. */
const codeOf = async (files: string[]) => (await Promise.all(files.map((f) => readFile(f, 'utf8')))).join('\n');

describe('Lambda bundles', () => {
  let dir: string;
  let bundles: Bundle[];
  // Inside the repository, so the external AWS SDK resolves from node_modules as it would from the runtime.
  beforeAll(async () => {
    // .build/ is ignored by git, so a fresh checkout does not have it yet.
    await mkdir(join(REPO_ROOT, '.build'), { recursive: true });
    dir = await mkdtemp(join(REPO_ROOT, '.build', 'test-'));
    bundles = await bundleHandlers(handlerNames(), dir);
  }, SYNTH_TIMEOUT_MS);
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('builds one ESM bundle with a source map for every handler the stack deploys', async () => {
    expect(bundles.map((b) => b.handler).sort()).toEqual(handlerNames().sort());
    for (const bundle of bundles) {
      const code = await readFile(bundle.file, 'utf8');
      expect(/^import\s*\{\s*createRequire as __sxCreateRequire\s*\}/.test(code), bundle.handler).toBe(true);
      expect(/\/\/# sourceMappingURL=index\.mjs\.map\s*$/.test(code), bundle.handler).toBe(true);
      expect(JSON.parse(await readFile(`${bundle.file}.map`, 'utf8')).version).toBe(3);
    }
  });

  it('leaves the AWS SDK to the runtime and drops zod locales', async () => {
    const views = await readFile(bundles.find((b) => b.handler === 'project-job-views')!.file, 'utf8');
    expect(/from\s*"@aws-sdk\/lib-dynamodb"/.test(views)).toBe(true);
    for (const bundle of bundles) {
      const code = await readFile(bundle.file, 'utf8');
      expect(code.includes('Nieprawidłowe'), bundle.handler).toBe(false); // a Polish zod message: the locales are gone
    }
  });

  it('loads only the SDK clients a function needs at start: DynamoDB; Batch, Logs and Secrets Manager on first use', async () => {
    const byName = new Map(bundles.map((b) => [b.handler, b]));
    // The authorizer reads API key streams, so it loads DynamoDB too; Secrets Manager only on an admin route.
    expect(byName.get('api-authorizer')!.loadedAtStart).toEqual(expect.arrayContaining(['@aws-sdk/client-dynamodb']));
    for (const b of bundles) {
      // The stream's forwarder sends every batch to SQS and touches no table.
      const expected = b.handler === 'forward-events' ? ['@aws-sdk/client-sqs'] : [];
      expect(b.loadedAtStart.filter((p) => !/^@aws-sdk\/(client-dynamodb|lib-dynamodb|util-dynamodb)$/.test(p)), b.handler).toEqual(expected);
    }
    // The Batch adapter is a chunk of its own, imported dynamically, that imports the Batch client.
    const dispatch = byName.get('dispatch-jobs')!;
    const entry = await readFile(dispatch.file, 'utf8');
    expect(entry).not.toMatch(/from\s*"@aws-sdk\/client-batch"/);
    const chunk = (await readdir(join(dispatch.dir, 'chunks'))).find((f) => f.startsWith('batch-compute-') && f.endsWith('.mjs'))!;
    expect(entry).toContain(`import("./chunks/${chunk}")`);
    expect(await readFile(join(dispatch.dir, 'chunks', chunk), 'utf8')).toMatch(/from\s*"@aws-sdk\/client-batch"/);
  });

  it('builds at cold start only the event schemas the function reads: the authorizer, API keys only', async () => {
    const authorizer = bundles.find((b) => b.handler === 'api-authorizer')!;
    expect(authorizer.filesAtStart).toContain(authorizer.file);
    const atStart = await codeOf(authorizer.filesAtStart);
    const all = await codeOf(authorizer.files);
    // The stream it reads: its schema is built at start.
    expect(atStart).toContain('"ApiKeyIssued"');
    // Job streams are read only by a chunk loaded on first use (job logs): with one module per kind
    // of stream (functions/aggregates/), their schemas stay in that chunk.
    expect(all).toContain('"JobQueued"');
    expect(atStart).not.toContain('"JobQueued"');
    // events/account-events.ts is in the bundle (job events use its CreditPortion), but its event
    // schemas are not: every schema declaration is a pure call (events/define-schema.ts).
    expect(all).toContain('creditId');
    for (const type of ['HoldPlaced', 'VoucherRedeemed', 'WebhookEndpointCreated']) expect(all, type).not.toContain(`"${type}"`);
  });

  it('loads in a plain Node process as a module that exports handler', () => {
    // A child process, as Lambda loads it: no vitest transform in between.
    const script = `for (const f of JSON.parse(process.argv[1])) { const m = await import(f); console.log(typeof m.handler); }`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script, JSON.stringify(bundles.map((b) => pathToFileURL(b.file).href))], {
      encoding: 'utf8',
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    });
    expect(out.trim().split('\n')).toEqual(bundles.map(() => 'function'));
  }, SYNTH_TIMEOUT_MS);

  it('keeps what a cold start loads under 250 KB (KiB, minified), and every bundle in all under 400 KB', () => {
    const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
    expect(bundles.filter((b) => b.bytesAtStart >= 250 * 1024).map((b) => `${b.handler}: ${kib(b.bytesAtStart)}`)).toEqual([]);
    // The room above 250 is for chunks loaded on first use, such as the RE2 engine of jobs' own metric regexes.
    expect(bundles.filter((b) => b.bytes >= 400 * 1024).map((b) => `${b.handler}: ${kib(b.bytes)}`)).toEqual([]);
  });

  it('loads the RE2 engine only for a job that names its own metric regexes', async () => {
    for (const handler of ['api/create-job', 'ingest-job-metrics']) {
      const bundle = bundles.find((b) => b.handler === handler)!;
      const atStart = await codeOf(bundle.filesAtStart);
      const all = await codeOf(bundle.files);
      expect(all, handler).toContain('missing argument to repetition operator'); // one of re2js's syntax errors
      expect(atStart, handler).not.toContain('missing argument to repetition operator');
    }
  });

  it('serves the OpenAPI document prerendered at bundle time, byte for byte the one the local stack builds live', async () => {
    const bundle = bundles.find((b) => b.handler === 'api/get-openapi')!;
    const event = { routeKey: 'GET /v1/openapi.json', rawPath: '/v1/openapi.json', headers: {}, requestContext: { requestId: 'r1', http: { method: 'GET' } } };
    // The bundle in a plain Node process, through the route as Lambda would call it.
    const script = `const m = await import(process.argv[1]); console.log(JSON.stringify(await m.make({})(JSON.parse(process.argv[2]), {})));`;
    const bundled = JSON.parse(
      execFileSync(process.execPath, ['--input-type=module', '-e', script, pathToFileURL(bundle.file).href, JSON.stringify(event)], {
        encoding: 'utf8',
        env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
        maxBuffer: 16 * 1024 * 1024,
      }),
    );
    const live = await makeOpenApi({} as Deps)(event as never, {} as never);
    expect(bundled).toEqual(live);
    expect(JSON.parse(bundled.body).openapi).toBe('3.1.0');
    // Prerendered: the document is inflated from the bundle, and the builder (with the route modules) is not in it.
    const code = await codeOf(bundle.files);
    expect(code).toContain('brotliDecompressSync');
    expect(code).not.toContain('jsonSchemaDialect');
    expect(bundle.bytes).toBeLessThan(250 * 1024);
  }, SYNTH_TIMEOUT_MS);
});

import { existsSync } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';

/** The repository root (where package.json and package-lock.json are). */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Where `bundleHandlers` writes by default: `.build/lambda/<handler>/index.mjs` (+ `.map`). Git-ignored. */
export const DEFAULT_BUNDLE_DIR = join(REPO_ROOT, '.build', 'lambda');

/** The module a handler name (`api/create-job`) points at: `functions/api/create-job.ts`, exporting `handler`. */
export const entryOf = (handler: string) => join(REPO_ROOT, 'functions', `${handler}.ts`);

/** The directory of one handler's bundle (the Lambda asset). */
export const bundleDirOf = (handler: string, outdir = DEFAULT_BUNDLE_DIR) => join(outdir, handler.replaceAll('/', '-'));

/**
 * Modules bundled into every Lambda ahead of its handler: `functions/aws-deps.ts` registers how the
 * handler's dependencies are built from the Lambda environment (see `functions/lambda.ts`).
 * Optional so the stack synthesizes before that module exists.
 */
export function lambdaInjections(): string[] {
  const awsDeps = join(REPO_ROOT, 'functions', 'aws-deps.ts');
  return existsSync(awsDeps) ? [awsDeps] : [];
}

/**
 * ESM output needs `require` for the CommonJS dependencies esbuild inlines (they `require` Node
 * built-ins); this gives them one.
 */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as __sxCreateRequire } from 'node:module'; const require = __sxCreateRequire(import.meta.url);";

/**
 * zod 4 exports every locale as the `z.locales` namespace, and because `z` is itself a namespace
 * object used as a value, esbuild cannot tree-shake them: ~250 KB of messages in 40 languages in
 * every bundle. Our code never uses `z.locales` (English is imported directly by zod's schemas), so
 * that one module is replaced by an empty one.
 */
const zodLocalesStub: Plugin = {
  name: 'sx-zod-locales-stub',
  setup(b) {
    b.onResolve({ filter: /\/locales\/index\.js$/ }, (args) =>
      /[\\/]node_modules[\\/]zod[\\/]/.test(args.importer) ? { path: 'zod-locales', namespace: 'sx-empty' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'sx-empty' }, () => ({ contents: 'export {}', loader: 'js' }));
  },
};

/**
 * How every Lambda is bundled, shared by the CDK stack and `bench/bundles.ts` so the benchmark
 * measures what is deployed: minified ESM for Node 22 with source maps, the AWS SDK v3 left to
 * the Lambda runtime (it ships one), everything else inlined.
 */
export const bundlingOptions = {
  bundle: true,
  minify: true,
  sourcemap: true,
  target: 'node22',
  format: 'esm',
  platform: 'node',
  external: ['@aws-sdk/*'],
  mainFields: ['module', 'main'],
  banner: { js: ESM_REQUIRE_BANNER },
  legalComments: 'none',
  logLevel: 'warning',
} as const;

export interface Bundle {
  handler: string;
  dir: string;
  file: string;
  bytes: number;
}

/**
 * Bundles each handler into `<outdir>/<handler>/index.mjs` with its source map (the directory is
 * the Lambda asset; `index.handler` the handler). Deterministic, so unchanged code keeps its asset hash.
 * @throws Error from esbuild when a handler does not build (a missing module, a type-less syntax error).
 */
export async function bundleHandlers(handlers: readonly string[], outdir = DEFAULT_BUNDLE_DIR): Promise<Bundle[]> {
  const inject = lambdaInjections();
  return Promise.all(
    [...new Set(handlers)].map(async (handler) => {
      const dir = bundleDirOf(handler, outdir);
      await rm(dir, { recursive: true, force: true });
      await mkdir(dir, { recursive: true });
      const file = join(dir, 'index.mjs');
      await build({
        ...bundlingOptions,
        external: [...bundlingOptions.external],
        mainFields: [...bundlingOptions.mainFields],
        entryPoints: [entryOf(handler)],
        outfile: file,
        inject,
        plugins: [zodLocalesStub],
        absWorkingDir: REPO_ROOT,
      });
      return { handler, dir, file, bytes: (await stat(file)).size };
    }),
  );
}

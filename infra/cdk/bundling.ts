import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants as zlib } from 'node:zlib';
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
 * ESM output needs `require` for the CommonJS dependencies esbuild inlines (they `require` Node
 * built-ins); this gives them one.
 */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as __sxCreateRequire } from 'node:module'; const require = __sxCreateRequire(import.meta.url);";

/** The module the OpenAPI route gets its document from; the bundle gets it prerendered. */
const OPENAPI_DOCUMENT = join(REPO_ROOT, 'functions', 'api', 'openapi-document.ts');

/**
 * `api/get-openapi` serves a document that depends on code only (the route table and the zod schemas
 * of every route module). Building it at run time put every route module and its schemas into that
 * bundle (~293 KB against the 250 KB goal) and cost the cold start their construction. This plugin
 * replaces `functions/api/openapi-document.ts` with the text it returns, computed here by importing the
 * real module, so the bundle carries the finished document and nothing it was built from. The text
 * (~55 KB of JSON) is embedded Brotli-compressed (~6 KB) and inflated once per container (well under
 * a millisecond); the document served is byte for byte the one the local stack builds live
 * (test/unit/infra/openapi-prerender.test.ts).
 */
const prerenderedOpenApi: Plugin = {
  name: 'sx-prerendered-openapi',
  setup(b) {
    b.onResolve({ filter: /[\\/]openapi-document(\.ts)?$/ }, (args) =>
      join(args.resolveDir, args.path.endsWith('.ts') ? args.path : `${args.path}.ts`) === OPENAPI_DOCUMENT ? { path: OPENAPI_DOCUMENT, namespace: 'sx-prerendered' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'sx-prerendered' }, async () => {
      // Imported here, not at the top: only bundling this one function needs the route modules.
      const { openApiDocument } = (await import('../../functions/api/openapi-document')) as typeof import('../../functions/api/openapi-document');
      const packed = brotliCompressSync(Buffer.from(openApiDocument(), 'utf8'), { params: { [zlib.BROTLI_PARAM_QUALITY]: 11 } }).toString('base64');
      return {
        loader: 'js',
        contents: [
          "import { brotliDecompressSync } from 'node:zlib';",
          '/** Prerendered at bundle time by infra/cdk/bundling.ts from functions/api/openapi-document.ts. */',
          `export const openApiDocument = () => brotliDecompressSync(Buffer.from(${JSON.stringify(packed)}, 'base64')).toString('utf8');`,
        ].join('\n'),
      };
    });
  },
};

/**
 * How every Lambda is bundled, shared by the CDK stack and `bench/bundles.ts` so the benchmark
 * measures what is deployed: minified ESM for Node 22 with source maps, the AWS SDK v3 left to
 * the Lambda runtime (it ships one), everything else inlined. Code splitting turns each dynamic
 * `import()` (the Batch, CloudWatch Logs and Secrets Manager adapters in `functions/aws-deps.ts`)
 * into a chunk of its own, loaded on first use: without it esbuild would inline the module and
 * hoist its `@aws-sdk/*` imports to the top of the bundle, loading every SDK client at start.
 */
export const bundlingOptions = {
  bundle: true,
  splitting: true,
  entryNames: 'index',
  chunkNames: 'chunks/[name]-[hash]',
  outExtension: { '.js': '.mjs' },
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
  /** The entry module, `<dir>/index.mjs`. */
  file: string;
  /** Minified code in all, the entry and its chunks (`.mjs`), without source maps. */
  bytes: number;
  /** Minified code a cold start loads: the entry and the chunks it imports statically. */
  bytesAtStart: number;
  /** The bundle's code files: the entry and every chunk (absolute paths, no source maps). */
  files: string[];
  /** The external packages (`@aws-sdk/*`) the entry imports statically, i.e. loads at cold start. */
  loadedAtStart: string[];
  /** The bundle's own files a cold start loads: the entry and the chunks it imports statically (absolute paths). */
  filesAtStart: string[];
}

/**
 * Bundles each handler into `<outdir>/<handler>/index.mjs` with its source map, and the chunks of
 * its dynamic imports under `chunks/` (the directory is the Lambda asset; `index.handler` the
 * handler). Deterministic, so unchanged code keeps its asset hash.
 * @throws Error from esbuild when a handler does not build (a missing module, a type-less syntax error).
 */
export async function bundleHandlers(handlers: readonly string[], outdir = DEFAULT_BUNDLE_DIR): Promise<Bundle[]> {
  return Promise.all(
    [...new Set(handlers)].map(async (handler) => {
      const dir = bundleDirOf(handler, outdir);
      await rm(dir, { recursive: true, force: true });
      await mkdir(dir, { recursive: true });
      const { metafile } = await build({
        ...bundlingOptions,
        external: [...bundlingOptions.external],
        mainFields: [...bundlingOptions.mainFields],
        entryPoints: { index: entryOf(handler) },
        outdir: dir,
        plugins: [prerenderedOpenApi],
        absWorkingDir: REPO_ROOT,
        metafile: true,
      });
      const code = Object.keys(metafile.outputs).filter((k) => k.endsWith('.mjs')).sort();
      const bytes = code.reduce((sum, k) => sum + metafile.outputs[k]!.bytes, 0);
      const atStart = staticImports(metafile.outputs);
      return {
        handler,
        dir,
        file: join(dir, 'index.mjs'),
        bytes,
        bytesAtStart: atStart.files.reduce((sum, k) => sum + metafile.outputs[k]!.bytes, 0),
        files: code.map((k) => join(REPO_ROOT, k)),
        loadedAtStart: atStart.externals,
        filesAtStart: atStart.files.map((k) => join(REPO_ROOT, k)),
      };
    }),
  );
}

/** What the entry imports statically, following its static imports of its own chunks: external modules and its own output files. */
function staticImports(outputs: Record<string, { imports: { path: string; kind: string; external?: boolean }[] }>): { externals: string[]; files: string[] } {
  const found = new Set<string>();
  const seen = new Set<string>();
  const visit = (key: string) => {
    if (seen.has(key)) return;
    seen.add(key);
    for (const i of outputs[key]?.imports ?? []) {
      if (i.kind !== 'import-statement') continue;
      if (i.external) found.add(i.path);
      else visit(i.path);
    }
  };
  // Dynamic-import chunks name an entry point too; the handler's own output is `index.mjs`.
  for (const key of Object.keys(outputs)) if (/(^|\/)index\.mjs$/.test(key)) visit(key);
  return { externals: [...found].filter((p) => !p.startsWith('node:')).sort(), files: [...seen].filter((k) => k.endsWith('.mjs')).sort() };
}

/**
 * Builds the web console: esbuild bundles `console/src/main.tsx` (Preact, the SDK, the stylesheet)
 * into content-hashed files beside an `index.html` that loads them with no inline script, so the
 * Content-Security-Policy can forbid inline code. uPlot sits in its own chunk, loaded by the pages
 * with charts. esbuild is already the project's bundler (Lambda bundles), so the console needs no
 * second build tool, and a build takes well under a second: the local stack builds on start.
 *
 * Builds are kept by the hash of their inputs (`.build/console/<hash>/`): a stale build is never
 * served, and two processes building at once each write a temp directory and rename it into place.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Metafile } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
/** What the console is built from: a change to any of these makes a new build. */
const INPUTS = ['console/src', 'console/build.ts', 'sdk', 'events', 'package-lock.json'];

export interface ConsoleBuild {
  /** The directory to serve: `index.html` and `assets/`. */
  dir: string;
  /** Whether this call built it (false: an up-to-date build was there). */
  built: boolean;
  /** The files `index.html` loads before anything else (the initial JS and CSS), relative to `dir`. */
  initial: string[];
}

/** The hash of every input file's path and bytes. */
export async function inputHash(): Promise<string> {
  const hash = createHash('sha256');
  for (const input of INPUTS) {
    for (const file of await filesUnder(join(root, input))) {
      hash.update(relative(root, file)).update('\0').update(await readFile(file)).update('\0');
    }
  }
  return hash.digest('hex').slice(0, 16);
}

async function filesUnder(path: string): Promise<string[]> {
  const entries = await readdir(path, { withFileTypes: true }).catch(() => null);
  if (!entries) return existsSync(path) ? [path] : [];
  const nested = await Promise.all(
    entries.sort((a, b) => a.name.localeCompare(b.name)).map((e) => (e.isDirectory() ? filesUnder(join(path, e.name)) : [join(path, e.name)])),
  );
  return nested.flat();
}

/**
 * The console's build for the current sources, building it first when there is none.
 * @throws the esbuild error when the sources do not compile.
 */
export async function ensureConsoleBuild(options: { outRoot?: string } = {}): Promise<ConsoleBuild> {
  const outRoot = options.outRoot ?? join(root, '.build', 'console');
  const dir = join(outRoot, await inputHash());
  const manifest = join(dir, 'manifest.json');
  if (existsSync(manifest)) return { dir, built: false, initial: JSON.parse(await readFile(manifest, 'utf8')).initial };
  const temp = `${dir}.tmp-${process.pid}-${Date.now()}`;
  const initial = await buildInto(temp);
  try {
    await rename(temp, dir);
  } catch {
    // Another process put the same build in place first: use it.
    await rm(temp, { recursive: true, force: true });
  }
  await removeOtherBuilds(outRoot, dir);
  return { dir, built: true, initial };
}

async function buildInto(dir: string): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const result = await build({
    absWorkingDir: root,
    entryPoints: ['console/src/main.tsx'],
    bundle: true,
    splitting: true,
    format: 'esm',
    minify: true,
    sourcemap: false,
    target: ['es2022', 'chrome111', 'firefox111', 'safari16'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    outdir: join(dir, 'assets'),
    entryNames: '[name]-[hash]',
    chunkNames: '[name]-[hash]',
    assetNames: '[name]-[hash]',
    metafile: true,
    legalComments: 'none',
    logLevel: 'silent',
    define: { 'process.env.NODE_ENV': '"production"' },
  });
  const { js, css, chunks } = entryOutputs(result.metafile, dir);
  const initial = [js, ...chunks, ...(css ? [css] : [])];
  await writeFile(join(dir, 'index.html'), indexHtml(js, css, chunks));
  await writeFile(join(dir, 'manifest.json'), JSON.stringify({ initial }));
  return initial;
}

/**
 * The entry's JS and CSS output, relative to the build directory, and the chunks it imports
 * statically (shared with the lazy chunks): part of the first load too.
 */
function entryOutputs(metafile: Metafile, dir: string): { js: string; css: string | undefined; chunks: string[] } {
  const [jsPath, output] = Object.entries(metafile.outputs).find(([, o]) => o.entryPoint === 'console/src/main.tsx') ?? [];
  if (!jsPath || !output) throw new Error('console build: no output for the entry point');
  const rel = (p: string) => relative(dir, join(root, p)).split('\\').join('/');
  const chunks = new Set<string>();
  const visit = (path: string) => {
    for (const i of metafile.outputs[path]?.imports ?? []) {
      if (i.kind !== 'import-statement' || i.external || chunks.has(i.path)) continue;
      chunks.add(i.path);
      visit(i.path);
    }
  };
  visit(jsPath);
  return { js: rel(jsPath), css: output.cssBundle ? rel(output.cssBundle) : undefined, chunks: [...chunks].map(rel) };
}

/** Loads the entry; its static chunks are preloaded beside it rather than found only once it has been parsed. */
function indexHtml(js: string, css: string | undefined, chunks: string[]): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>算想云 Console</title>
${css ? `<link rel="stylesheet" href="/${css}">\n` : ''}${chunks.map((c) => `<link rel="modulepreload" href="/${c}">\n`).join('')}<script type="module" src="/${js}"></script>
</head>
<body>
<div id="app"></div>
<noscript>This console needs JavaScript.</noscript>
</body>
</html>
`;
}

async function removeOtherBuilds(outRoot: string, keep: string) {
  for (const name of await readdir(outRoot).catch(() => [] as string[])) {
    const path = join(outRoot, name);
    // Temp dirs of builds still running elsewhere are theirs to move; old finished builds go.
    if (path !== keep && !name.includes('.tmp-')) await rm(path, { recursive: true, force: true }).catch(() => {});
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  ensureConsoleBuild().then(
    (b) => console.log(`console ${b.built ? 'built' : 'up to date'}: ${relative(root, b.dir)}`),
    (error: unknown) => {
      console.error(`console build failed: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(1);
    },
  );
}

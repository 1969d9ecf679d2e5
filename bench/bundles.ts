/**
 * `npm run bench:bundles` (also the second half of `npm run bench`): per Lambda, the size of the
 * bundle the CDK stack deploys (same bundler, same options: `infra/cdk/bundling.ts`) and its cold
 * module-load time, i.e. a fresh `node` process importing it, beside a hello-world handler bundled
 * and measured in the same run. The AWS SDK is external (the Lambda runtime ships it) but its load
 * is part of a cold start, so a second baseline per bundle is a hello-world that imports the same
 * `@aws-sdk/*` packages the bundle loads at start: the difference to it is what our own code costs.
 * Load times are medians of interleaved runs (baselines, then each handler, repeated), because these
 * machines are shared and noisy. Record results in BENCHMARKS.md. `SX_BENCH_HANDLERS=a,b` measures
 * only those handlers (beside the same baselines), to re-measure one change without loading the machine.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { bundleHandlers, REPO_ROOT, type Bundle } from '../infra/cdk/bundling';
import { handlerNames } from '../infra/cdk/stateless-stack';
import { fmt, percentile } from './stats';

const RUNS = Number(process.env.SX_BENCH_RUNS ?? 15);
const SIZE_GOAL_KB = 250;
const LOAD_GOAL_MS = 30;
// Inside the repository so the external AWS SDK resolves from node_modules, as from the Lambda runtime.
const OUT = join(REPO_ROOT, '.build', 'bench');
const HELLO = 'bench/hello-world';
/** Only these handlers, when set (comma-separated handler names). */
const ONLY = process.env.SX_BENCH_HANDLERS?.split(',').map((h) => h.trim()).filter(Boolean);

/** One fresh Node process: the time from before `import()` to the handler being exported, in ms. */
function loadMs(file: string): number {
  const script = `const t = performance.now(); const m = await import(${JSON.stringify(pathToFileURL(file).href)}); if (typeof m.handler !== 'function') throw new Error('no handler'); console.log(performance.now() - t);`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  });
  return Number(out.trim());
}

/** A hello-world handler that imports `packages` (external, as in the bundles), written beside the bundles. */
async function sdkBaseline(packages: string[], index: number): Promise<{ name: string; file: string }> {
  const dir = join(OUT, `hello-sdk-${index}`);
  await mkdir(dir, { recursive: true });
  const file = join(dir, 'index.mjs');
  await writeFile(file, `${packages.map((p) => `import ${JSON.stringify(p)};`).join('\n')}\nexport const handler = async () => ({ statusCode: 200, body: 'hello' });\n`);
  return { name: packages.map((p) => p.replace('@aws-sdk/', '')).join(' + '), file };
}

async function main() {
  const loadAtStart = loadavg();
  console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${fmt(totalmem() / 2 ** 30)} GiB, Node ${process.version}, load average ${loadAtStart.map((l) => fmt(l, 1)).join(' ')}`);
  await rm(OUT, { recursive: true, force: true });
  // The baseline: the smallest possible handler, through the same bundler.
  await mkdir(join(REPO_ROOT, '.build'), { recursive: true });
  const helloEntry = join(REPO_ROOT, 'functions', `${HELLO}.ts`);
  await mkdir(join(REPO_ROOT, 'functions', 'bench'), { recursive: true });
  await writeFile(helloEntry, "export const handler = async () => ({ statusCode: 200, body: 'hello' });\n");
  let bundles: Bundle[];
  try {
    const unknown = ONLY?.filter((h) => !handlerNames().includes(h)) ?? [];
    if (unknown.length) throw new Error(`SX_BENCH_HANDLERS names no deployed handler: ${unknown.join(', ')}`);
    bundles = await bundleHandlers([HELLO, ...(ONLY ?? handlerNames())], OUT);
  } finally {
    await rm(join(REPO_ROOT, 'functions', 'bench'), { recursive: true, force: true });
  }
  // One SDK baseline per distinct set of SDK packages loaded at start (bundles with none compare to hello-world).
  const sdkSets = [...new Set(bundles.map((b) => b.loadedAtStart.join(' ')).filter(Boolean))].map((s) => s.split(' '));
  const sdkBaselines = await Promise.all(sdkSets.map((set, i) => sdkBaseline(set, i)));
  const baselineOf = (b: Bundle) => sdkBaselines[sdkSets.findIndex((s) => s.join(' ') === b.loadedAtStart.join(' '))];

  const files = [...bundles.map((b) => b.file), ...sdkBaselines.map((b) => b.file)];
  const samples = new Map<string, number[]>(files.map((f) => [f, []]));
  for (const f of files) loadMs(f); // warm the file cache
  for (let run = 0; run < RUNS; run++) for (const f of files) samples.get(f)!.push(loadMs(f));
  const median = (file: string) => percentile(samples.get(file)!, 50);

  const hello = bundles.find((b) => b.handler === HELLO)!;
  const baseline = median(hello.file);
  console.log(`\nbaselines (median of ${RUNS} fresh processes each, interleaved with the bundles)\n`);
  console.log('| baseline | load (median) | − hello-world |');
  console.log('|---|---|---|');
  console.log(`| hello-world | ${fmt(baseline, 1)} ms | — |`);
  for (const b of sdkBaselines) console.log(`| hello-world + ${b.name} | ${fmt(median(b.file), 1)} ms | ${fmt(median(b.file) - baseline, 1)} ms |`);

  console.log(`\nbundle sizes and cold module load\n`);
  console.log('| function | minified | gzip | SDK loaded at start | load (median) | − hello-world | − hello-world + same SDK | size goal | load goal | load goal without SDK |');
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  let met = 0;
  let metWithoutSdk = 0;
  for (const b of bundles) {
    if (b === hello) continue;
    let gzip = 0;
    for (const f of b.files) gzip += gzipSync(await readFile(f)).length;
    const load = median(b.file);
    const delta = load - baseline;
    const sdk = baselineOf(b);
    const deltaSdk = load - (sdk ? median(sdk.file) : baseline);
    const yes = (ok: boolean) => (ok ? 'yes' : '**no**');
    if (delta <= LOAD_GOAL_MS) met++;
    if (deltaSdk <= LOAD_GOAL_MS) metWithoutSdk++;
    console.log(
      `| \`${b.handler}\` | ${fmt(b.bytes / 1024, 1)} KB | ${fmt(gzip / 1024, 1)} KB | ${sdk?.name ?? '—'} | ${fmt(load, 1)} ms | ${fmt(delta, 1)} ms | ${fmt(deltaSdk, 1)} ms | ${yes(b.bytes / 1024 < SIZE_GOAL_KB)} | ${yes(delta <= LOAD_GOAL_MS)} | ${yes(deltaSdk <= LOAD_GOAL_MS)} |`,
    );
  }
  const n = bundles.length - 1;
  console.log(`\ngoals: under ${SIZE_GOAL_KB} KB minified (entry + chunks), load within ${LOAD_GOAL_MS} ms of the hello-world baseline`);
  console.log(`load goal met by ${met}/${n}; by ${metWithoutSdk}/${n} against hello-world + the same SDK packages`);
  console.log(`load average at the end: ${loadavg().map((l) => fmt(l, 1)).join(' ')}`);
}

main().catch((error) => {
  console.error(`bench: ${error instanceof Error ? error.stack : String(error)}`);
  process.exit(1);
});

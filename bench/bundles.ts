/**
 * `npm run bench:bundles` (also the second half of `npm run bench`): per Lambda, the size of the
 * bundle the CDK stack deploys (same bundler, same options: `infra/cdk/bundling.ts`) and its cold
 * module-load time, i.e. a fresh `node` process importing it, beside a hello-world handler bundled
 * and measured in the same run. Load times are medians of interleaved runs (baseline, then each
 * handler, repeated), because these machines are shared and noisy. Record results in BENCHMARKS.md.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { bundleHandlers, REPO_ROOT } from '../infra/cdk/bundling';
import { handlerNames } from '../infra/cdk/stateless-stack';
import { fmt, percentile } from './stats';

const RUNS = Number(process.env.SX_BENCH_RUNS ?? 15);
const SIZE_GOAL_KB = 250;
const LOAD_GOAL_MS = 30;
// Inside the repository so the external AWS SDK resolves from node_modules, as from the Lambda runtime.
const OUT = join(REPO_ROOT, '.build', 'bench');
const HELLO = 'bench/hello-world';

/** One fresh Node process: the time from before `import()` to the handler being exported, in ms. */
function loadMs(file: string): number {
  const script = `const t = performance.now(); const m = await import(${JSON.stringify(pathToFileURL(file).href)}); if (typeof m.handler !== 'function') throw new Error('no handler'); console.log(performance.now() - t);`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  });
  return Number(out.trim());
}

async function main() {
  console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${fmt(totalmem() / 2 ** 30)} GiB, Node ${process.version}`);
  await rm(OUT, { recursive: true, force: true });
  // The baseline: the smallest possible handler, through the same bundler.
  await mkdir(join(REPO_ROOT, '.build'), { recursive: true });
  const helloEntry = join(REPO_ROOT, 'functions', `${HELLO}.ts`);
  await mkdir(join(REPO_ROOT, 'functions', 'bench'), { recursive: true });
  await writeFile(helloEntry, "export const handler = async () => ({ statusCode: 200, body: 'hello' });\n");
  let bundles;
  try {
    bundles = await bundleHandlers([HELLO, ...handlerNames()], OUT);
  } finally {
    await rm(join(REPO_ROOT, 'functions', 'bench'), { recursive: true, force: true });
  }

  const samples = new Map<string, number[]>(bundles.map((b) => [b.handler, []]));
  for (const b of bundles) loadMs(b.file); // warm the file cache
  for (let run = 0; run < RUNS; run++) for (const b of bundles) samples.get(b.handler)!.push(loadMs(b.file));

  const baseline = percentile(samples.get(HELLO)!, 50);
  const hello = bundles.find((b) => b.handler === HELLO)!;
  console.log(`\nbundle sizes and cold module load (median of ${RUNS} fresh processes each, interleaved)\n`);
  console.log('| function | minified | gzip | load (median) | load − hello-world | within goals |');
  console.log('|---|---|---|---|---|---|');
  for (const b of bundles) {
    const gzip = gzipSync(await readFile(b.file)).length;
    const median = percentile(samples.get(b.handler)!, 50);
    const delta = median - baseline;
    const ok = b.bytes / 1024 < SIZE_GOAL_KB && delta <= LOAD_GOAL_MS;
    const name = b.handler === HELLO ? 'hello-world (baseline)' : `\`${b.handler}\``;
    console.log(`| ${name} | ${fmt(b.bytes / 1024, 1)} KB | ${fmt(gzip / 1024, 1)} KB | ${fmt(median, 1)} ms | ${b === hello ? '—' : `${fmt(delta, 1)} ms`} | ${b === hello ? '—' : ok ? 'yes' : '**no**'} |`);
  }
  console.log(`\ngoals: under ${SIZE_GOAL_KB} KB minified, load within ${LOAD_GOAL_MS} ms of the hello-world baseline`);
}

main().catch((error) => {
  console.error(`bench: ${error instanceof Error ? error.stack : String(error)}`);
  process.exit(1);
});

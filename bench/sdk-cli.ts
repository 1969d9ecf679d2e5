/**
 * Figures for the SDK and `sx`, each beside a baseline measured in the same run:
 * - what the SDK costs per request over a bare `fetch` + `JSON.parse` of the same route (its
 *   schema check of the answer, headers and retry bookkeeping);
 * - how long `sx` takes to start (`sx --version`) beside a bare `node -e ''`, and a whole
 *   `sx jobs get --json` (start-up + one request) beside the same request made with curl-like `fetch`.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { SxClient } from '../sdk';
import { startStackProcess } from '../infra/local/stack-process';
import { fmt, percentile, throughput } from './stats';

const LOAD = { concurrency: 8, durationMs: 3_000 };
const SX = fileURLToPath(new URL('../cli/bin/sx.js', import.meta.url));

/** Median wall time of `runs` runs of a command, in ms. */
function timed(command: string, args: string[], env: Record<string, string>, runs = 7): number {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    const result = spawnSync(command, args, { env: { ...process.env, NO_COLOR: '1', ...env }, encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${result.stderr}`);
    times.push(performance.now() - started);
  }
  return percentile(times, 50);
}

export async function main() {
  const stack = await startStackProcess();
  try {
    const { api_key } = await new SxClient({ baseUrl: stack.url }).signup({ email: 'bench-sdk@example.com' });
    const client = new SxClient({ baseUrl: stack.url, apiKey: api_key });
    const job = await client.jobs.create({ image: 'bench/sdk:1', command: ['true'], gpu_count: 1, max_runtime_seconds: 60 });

    const url = `${stack.url}/v1/jobs/${job.id}`;
    const raw = async () => {
      const res = await fetch(url, { headers: { authorization: `Bearer ${api_key}` } });
      if (res.status !== 200) throw new Error(`GET failed: ${res.status}`);
      JSON.parse(await res.text());
    };
    const sdk = async () => {
      await client.jobs.get(job.id);
    };
    await throughput(raw, { ...LOAD, durationMs: 1_000 }); // warm-up
    const rawRate = await throughput(raw, LOAD);
    const sdkRate = await throughput(sdk, LOAD);
    console.log(`SDK jobs.get: ${fmt(sdkRate)} req/s; bare fetch + JSON.parse: ${fmt(rawRate)} req/s; ratio ${fmt(sdkRate / rawRate, 2)} (concurrency ${LOAD.concurrency}, ${LOAD.durationMs / 1000} s each)`);

    const env = { SX_API_URL: stack.url, SX_API_KEY: api_key };
    const node = timed(process.execPath, ['-e', ''], env);
    const version = timed(process.execPath, [SX, '--version'], env);
    console.log(`sx --version: ${fmt(version)} ms (median of 7); node -e '': ${fmt(node)} ms; ratio ${fmt(version / node, 1)}`);
    const get = timed(process.execPath, [SX, 'jobs', 'get', job.id, '--json'], env);
    const fetchOnce = timed(process.execPath, ['-e', `fetch(${JSON.stringify(url)}, { headers: { authorization: 'Bearer ${api_key}' } }).then((r) => r.text()).then(console.log)`], env);
    console.log(`sx jobs get --json: ${fmt(get)} ms (median of 7); node + one fetch: ${fmt(fetchOnce)} ms; ratio ${fmt(get / fetchOnce, 1)}`);
  } finally {
    await stack.stop();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((error) => {
    console.error(`bench: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
}

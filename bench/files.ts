/**
 * `npm run bench:files` (also part of `npm run bench`): a 1 GiB file up and down through the local
 * stack with `sx`, each beside a plain local copy of the same bytes (`cp`) in the same run, and the
 * peak memory (RSS) of the stack process (API, handlers and the S3-compatible server, all in one
 * process) and of each `sx` run. Set SX_BENCH_FILE_MIB for another size.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SxClient } from '../sdk';
import { startStackProcess } from '../infra/local/stack-process';
import { fmt } from './stats';

const MiB = 2 ** 20;
const SIZE_MIB = Number(process.env.SX_BENCH_FILE_MIB ?? 1024);
const SX = fileURLToPath(new URL('../cli/bin/sx.js', import.meta.url));

/** Peak RSS of a live process so far (Linux `VmHWM`), in MiB. */
async function peakRssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
}

/** Runs a command under /usr/bin/time: wall seconds and peak RSS (MiB). */
function measured(command: string, args: string[], env: Record<string, string> = {}) {
  const started = performance.now();
  const res = spawnSync('/usr/bin/time', ['-f', 'SX_BENCH_MAXRSS %M', command, ...args], {
    env: { ...process.env, NO_COLOR: '1', ...env },
    encoding: 'utf8',
    maxBuffer: 64 * MiB,
  });
  const seconds = (performance.now() - started) / 1000;
  if (res.status !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${res.stderr}`);
  const rss = Number(/SX_BENCH_MAXRSS (\d+)/.exec(res.stderr)?.[1] ?? 0) / 1024;
  return { seconds, rssMiB: rss, stdout: res.stdout };
}

export async function main() {
  const dir = await mkdtemp(join(tmpdir(), 'sx-bench-files-'));
  const stack = await startStackProcess();
  try {
    // The bytes: random (incompressible), written once.
    const source = join(dir, 'data.bin');
    const handle = await open(source, 'w');
    for (let i = 0; i < SIZE_MIB; i += 16) await handle.write(randomBytes(16 * MiB));
    await handle.close();
    const bytes = SIZE_MIB * MiB;

    const { api_key } = await new SxClient({ baseUrl: stack.url }).signup({ email: 'bench-files@example.com' });
    const env = { SX_API_URL: stack.url, SX_API_KEY: api_key, XDG_CONFIG_HOME: join(dir, 'config'), HOME: dir };
    const stackBefore = await peakRssMiB(stack.pid);

    const copy = measured('cp', [source, join(dir, 'copy.bin')]);
    const up = measured(process.execPath, [SX, 'files', 'upload', source, '--json'], env);
    const fileId = JSON.parse(up.stdout).id as string;
    await rm(join(dir, 'copy.bin'));
    const copyAgain = measured('cp', [source, join(dir, 'copy.bin')]);
    const down = measured(process.execPath, [SX, 'files', 'download', fileId, '--out', join(dir, 'down.bin')], env);
    const stackPeak = await peakRssMiB(stack.pid);

    const rate = (seconds: number) => bytes / MiB / seconds;
    const cpRate = rate((copy.seconds + copyAgain.seconds) / 2);
    console.log(`files, ${fmt(SIZE_MIB)} MiB through the local stack with sx (stack process peak RSS before: ${fmt(stackBefore)} MiB)`);
    console.log(`  cp of the same bytes: ${fmt(rate(copy.seconds))} and ${fmt(rate(copyAgain.seconds))} MiB/s (baseline: their mean, ${fmt(cpRate)} MiB/s)`);
    console.log(`  sx files upload (SHA-256 of the file first, then parts, then the server's SHA-256 pass): ${fmt(rate(up.seconds))} MiB/s, ratio ${fmt(rate(up.seconds) / cpRate, 2)}; sx peak RSS ${fmt(up.rssMiB)} MiB`);
    console.log(`  sx files download (size and SHA-256 checked): ${fmt(rate(down.seconds))} MiB/s, ratio ${fmt(rate(down.seconds) / cpRate, 2)}; sx peak RSS ${fmt(down.rssMiB)} MiB`);
    console.log(`  stack process peak RSS over the whole run: ${fmt(stackPeak)} MiB`);
  } finally {
    await stack.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error) => {
    console.error(error);
    process.exitCode = 1;
  });
}

import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Option, type Command } from 'commander';
import cliProgress from 'cli-progress';
import pc from 'picocolors';
import type { SxClient, SxFile } from '../../sdk/client';
import { configPath } from '../config';
import type { CliContext, JsonOption } from '../context';
import { UsageError } from '../context';
import { ago, details, table } from '../format';

type Purpose = 'dataset' | 'model' | 'other';

/** `sx files upload|ls|get|rm|download`: data a job reads (datasets, base models). */
export function registerFilesCommands(program: Command, cli: CliContext): void {
  const { act, client, print, printJson, withJson } = cli;
  const files = program.command('files').description('upload datasets and models that jobs read, and download them');
  withJson(files.command('upload').description('upload a file (parts in parallel; run again on the same path to resume)'))
    .argument('<path>')
    .addOption(new Option('--purpose <purpose>', 'what it is for').choices(['dataset', 'model', 'other']).default('dataset'))
    .action(
      act(async (path: string, opts: JsonOption & { purpose: Purpose }) => {
        const file = await uploadPath(client(), path, opts.purpose, !opts.json);
        if (opts.json) return printJson(file);
        print(showFile(file));
      }),
    );
  withJson(files.command('ls').alias('list').description('your files, newest first'))
    .addOption(new Option('--purpose <purpose>', 'only files for this purpose').choices(['dataset', 'model', 'other']))
    .action(
      act(async (opts: JsonOption & { purpose?: Purpose }) => {
        const list: SxFile[] = [];
        for await (const f of client().files.listAll({ purpose: opts.purpose, pageSize: 100 })) list.push(f);
        if (opts.json) return printJson(list);
        if (!list.length) return print(pc.dim('no files yet: upload one with sx files upload PATH'));
        print(table(['id', 'filename', 'size', 'purpose', 'status', 'created'], list.map((f) => [f.id, f.filename, bytes(f.size), f.purpose, f.status, ago(f.created_at)])));
      }),
    );
  withJson(files.command('get').description('one file in detail'))
    .argument('<id>')
    .action(
      act(async (id: string, opts: JsonOption) => {
        const file = await client().files.get(id);
        if (opts.json) return printJson(file);
        print(showFile(file));
      }),
    );
  withJson(files.command('rm').alias('delete').description('delete a file and its bytes'))
    .argument('<id>')
    .action(
      act(async (id: string, opts: JsonOption) => {
        await client().files.delete(id);
        if (opts.json) return printJson({ id, deleted: true });
        print(`${id} deleted`);
      }),
    );
  files
    .command('download')
    .description("download a file's bytes (checks its size, and its SHA-256 when it has one)")
    .argument('<id>')
    .option('--out <path>', 'where to write it (default: its filename, here)')
    .action(
      act(async (id: string, opts: { out?: string }) => {
        const api = client();
        const file = await api.files.get(id);
        const out = opts.out ?? file.filename;
        const sha = await downloadUrl(await api.files.contentUrl(id), out, file.size, true);
        if (file.sha256 && sha !== file.sha256) throw new Error(`${out}: SHA-256 ${sha} is not the file's ${file.sha256}`);
        print(`${out} (${bytes(file.size)})`);
      }),
    );
}

/** `sx jobs outputs|download`: what a job left in its output directory. */
export function registerJobOutputCommands(jobs: Command, cli: CliContext): void {
  const { act, client, print, printJson, withJson } = cli;
  withJson(jobs.command('outputs').description("the files a job left in $SX_OUTPUT_DIR (there once it has ended, also after a failure)"))
    .argument('<id>')
    .option('--checkpoints', 'its checkpoint directory instead, as last saved')
    .action(
      act(async (id: string, opts: JsonOption & { checkpoints?: boolean }) => {
        const api = client();
        const list = opts.checkpoints ? await api.jobs.checkpoints(id) : await api.jobs.outputs(id);
        if (opts.json) return printJson(list);
        if (!list.length) return print(pc.dim('nothing yet: outputs are there once the job has ended'));
        print(table(['path', 'size'], list.map((o) => [o.path, bytes(o.size)])));
      }),
    );
  jobs
    .command('download')
    .description("download a job's outputs into a directory (sizes checked)")
    .argument('<id>')
    .option('--out <dir>', 'where (default: ./<job id>)')
    .option('--checkpoints', 'its checkpoint directory instead')
    .action(
      act(async (id: string, opts: { out?: string; checkpoints?: boolean }) => {
        const api = client();
        const list = opts.checkpoints ? await api.jobs.checkpoints(id) : await api.jobs.outputs(id);
        const dir = resolve(opts.out ?? id);
        for (const o of list) {
          const target = resolve(dir, o.path);
          if (!target.startsWith(dir + sep)) throw new Error(`refusing ${o.path}: outside ${dir}`);
          await downloadUrl(o.url, target, o.size, process.stderr.isTTY);
        }
        print(`${list.length} file${list.length === 1 ? '' : 's'} in ${dir}`);
      }),
    );
}

/** Where `sx files upload` remembers unfinished uploads by path, to resume them when run again. */
const uploadsPath = () => join(dirname(configPath()), 'uploads.json');
type Unfinished = Record<string, { fileId: string; size: number; mtimeMs: number }>;

/** Uploads a path with a progress bar, resuming an unfinished upload of the same unchanged path. */
export async function uploadPath(api: SxClient, path: string, purpose: Purpose, progress: boolean): Promise<SxFile> {
  const full = resolve(path);
  const info = await stat(full).catch(() => null);
  if (!info?.isFile()) throw new UsageError(`${path}: not a file`);
  const state: Unfinished = JSON.parse(await readFile(uploadsPath(), 'utf8').catch(() => '{}'));
  const previous = state[full];
  const resumeFileId = previous && previous.size === info.size && previous.mtimeMs === info.mtimeMs ? previous.fileId : undefined;
  const save = async () => {
    await mkdir(dirname(uploadsPath()), { recursive: true });
    await writeFile(uploadsPath(), JSON.stringify(state, null, 2), { mode: 0o600 });
  };
  const sha256 = resumeFileId ? undefined : await hashFile(full);
  const bar = progress ? new cliProgress.SingleBar({ format: '{bar} {percentage}% {value}/{total} MiB  {speed} MiB/s  ETA {eta_formatted}', hideCursor: true }, cliProgress.Presets.shades_classic) : undefined;
  const started = Date.now();
  try {
    const file = await api.files.upload(full, {
      purpose,
      sha256,
      resumeFileId,
      onCreated: (f) => {
        state[full] = { fileId: f.id, size: info.size, mtimeMs: info.mtimeMs };
        void save();
        bar?.start(Math.ceil(info.size / 2 ** 20), 0, { speed: '0' });
      },
      onProgress: (p) => {
        const seconds = Math.max(0.001, (Date.now() - started) / 1000);
        bar?.update(Math.floor(p.uploadedBytes / 2 ** 20), { speed: (p.uploadedBytes / 2 ** 20 / seconds).toFixed(1) });
      },
    });
    delete state[full];
    await save();
    return file;
  } finally {
    bar?.stop();
  }
}

async function hashFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Streams a signed URL to `out` (memory stays small), checks its size, and returns its SHA-256. */
async function downloadUrl(url: string, out: string, size: number, progress: boolean): Promise<string> {
  const res = await fetch(url);
  if (!res.ok || !res.body) throw new Error(`download failed: HTTP ${res.status}`);
  await mkdir(dirname(resolve(out)), { recursive: true });
  const hash = createHash('sha256');
  let received = 0;
  const bar = progress && size > 8 * 2 ** 20 ? new cliProgress.SingleBar({ format: '{bar} {percentage}% ETA {eta_formatted}' }, cliProgress.Presets.shades_classic) : undefined;
  bar?.start(size, 0);
  const counted = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream).map((chunk: Buffer) => {
    hash.update(chunk);
    received += chunk.length;
    bar?.update(received);
    return chunk;
  });
  try {
    await pipeline(counted, createWriteStream(out));
  } finally {
    bar?.stop();
  }
  if (received !== size) throw new Error(`${out}: got ${received} bytes, expected ${size}`);
  return hash.digest('hex');
}

const bytes = (n: number) => (n >= 2 ** 30 ? `${(n / 2 ** 30).toFixed(1)} GiB` : n >= 2 ** 20 ? `${(n / 2 ** 20).toFixed(1)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} B`);

function showFile(f: SxFile): string {
  return details([
    ['id', f.id],
    ['filename', f.filename],
    ['size', `${bytes(f.size)} (${f.size} bytes)`],
    ['purpose', f.purpose],
    ['status', f.status === 'ready' ? pc.green(f.status) : f.status === 'failed' ? pc.red(`${f.status} (${f.failure_reason})`) : f.status],
    ['sha256', f.sha256 ?? '-'],
    ['created', f.created_at],
  ]);
}

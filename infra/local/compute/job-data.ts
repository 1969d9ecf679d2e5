import { execFile } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { chmod, mkdir, readdir, rm, stat } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { checkpointPrefix, outputPrefix, type ComputeInput, type ComputeJobSpec } from '../../../functions/adapters/compute';
import type { ObjectStore } from '../../../functions/adapters/object-store';

const run = promisify(execFile);

/** The status reason of a job whose inputs could not be fetched: the service's fault, failed as `infrastructure`, never billed. */
export const INPUTS_REASON_PREFIX = 'ResourceInitializationError: inputs could not be fetched: ';

/**
 * A job's data on the local node, as the AWS node scripts move it: inputs from the bucket before
 * the command starts, outputs and checkpoints to the bucket before the job is reported final.
 */
export class JobData {
  constructor(private readonly objects: ObjectStore) {}

  /**
   * Places each input under `<inputDir>/<name>/` and makes the tree read-only.
   * @throws Error naming the input that could not be fetched or unpacked.
   */
  async fetchInputs(spec: ComputeJobSpec, inputDir: string): Promise<void> {
    // A retried attempt fetches afresh; the last attempt's tree was made read-only.
    await run('chmod', ['-R', 'u+w', inputDir]).catch(() => undefined);
    await rm(inputDir, { recursive: true, force: true });
    await mkdir(inputDir, { recursive: true });
    for (const input of spec.inputs ?? []) {
      const dir = join(inputDir, input.name);
      await mkdir(dir, { recursive: true });
      try {
        await this.fetchInput(input, dir);
      } catch (error) {
        throw new Error(`input ${input.name}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    await readOnly(inputDir);
  }

  /** Saves the job's output and checkpoint directories under its prefixes; checkpoints removed locally are removed there too. */
  async saveResults(jobId: string, jobDir: string): Promise<void> {
    await this.saveTree(join(jobDir, 'output'), outputPrefix(jobId), false);
    await this.saveTree(join(jobDir, 'checkpoints'), checkpointPrefix(jobId), true);
  }

  private async fetchInput(input: ComputeInput, dir: string): Promise<void> {
    if (input.kind === 'job') {
      for (const object of await this.objects.list(input.prefix)) await this.download(input.prefix + object.path, inside(dir, object.path));
      return;
    }
    const target = join(dir, input.filename);
    await this.download(input.key, target);
    if (!input.extract) return;
    await unpack(target, input.filename, dir);
    await rm(target);
  }

  private async download(key: string, path: string): Promise<void> {
    await mkdir(dirname(path), { recursive: true });
    await pipeline(await this.objects.read(key), createWriteStream(path));
  }

  private async saveTree(dir: string, prefix: string, mirror: boolean): Promise<void> {
    const files = await listFiles(dir);
    for (const path of files) await this.objects.putFile(prefix + path, join(dir, path));
    if (!mirror) return;
    const kept = new Set(files);
    await this.objects.delete((await this.objects.list(prefix)).filter((o) => !kept.has(o.path)).map((o) => prefix + o.path));
  }
}

/** `path` under `dir`, refusing a name that would leave it (`../`). */
function inside(dir: string, path: string): string {
  const full = resolve(dir, path);
  if (!full.startsWith(resolve(dir) + sep)) throw new Error(`refusing ${path}: outside the input directory`);
  return full;
}

/** Unpacks an archive into `dir` with the system's tar or unzip; both refuse members that leave it. */
async function unpack(archive: string, filename: string, dir: string): Promise<void> {
  const lower = filename.toLowerCase();
  if (lower.endsWith('.zip')) await run('unzip', ['-q', '-o', archive, '-d', dir]);
  else if (lower.endsWith('.tar.gz') || lower.endsWith('.tgz')) await run('tar', ['-xzf', archive, '-C', dir, '--no-same-owner', '--no-same-permissions']);
  else if (lower.endsWith('.tar')) await run('tar', ['-xf', archive, '-C', dir, '--no-same-owner', '--no-same-permissions']);
  else throw new Error(`${filename} is not a .tar, .tar.gz, .tgz or .zip archive`);
}

/** Regular files under `dir`, relative paths with `/`, sorted; symbolic links are not followed. */
async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)).split(sep).join('/'))
    .sort();
}

/** Removes every write permission in the tree, as a read-only mount would present it. */
async function readOnly(dir: string): Promise<void> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  for (const e of entries) {
    const path = join(e.parentPath, e.name);
    if (e.isSymbolicLink()) continue;
    await chmod(path, (await stat(path)).mode & 0o555);
  }
  await chmod(dir, 0o555);
}

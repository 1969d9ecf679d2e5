import { InvalidArgumentError, Option, type Command } from 'commander';
import pc from 'picocolors';
import { newIdempotencyKey } from '../../sdk/client';
import { uploadPath } from './files';
import type { CliContext, JsonOption } from '../context';
import { EXIT, followJob } from '../follow';
import { shellJoin } from '../format';
import { durationSeconds, positiveInt } from '../options';

interface RunOptions extends JsonOption {
  image: string;
  gpus: number;
  name?: string;
  env: Record<string, string>;
  input: Array<{ name: string; source: string; extract: boolean }>;
  maxRuntime?: number;
  detach?: boolean;
  idempotencyKey?: string;
  cancelOnInterrupt?: boolean;
  interval: number;
}

/** `sx run`: submit a job and follow it to its end, with an exit code that mirrors how it ended. */
export function registerRunCommands(program: Command, cli: CliContext): void {
  const { act, client, print, printJson, withJson } = cli;

  withJson(
    program
      .command('run')
      .description('submit a job and follow it: live status, its log, and an exit code that mirrors how it ended')
      .usage('[options] -- <command...>')
      .passThroughOptions(),
  )
    .argument('<command...>', 'the command the job runs (put it after --)')
    .requiredOption('--image <image>', 'container image, registry/repo:tag (locally recorded, not pulled)')
    .addOption(new Option('--gpus <n>', 'GPUs: 1 to 8, or a multiple of 8 up to 64 (multi-node)').default(1).argParser(positiveInt))
    .option('--name <name>', 'a name to find it by')
    .option('-e, --env <KEY=value>', 'an environment variable for the job (repeatable)', collectEnv, {} as Record<string, string>)
    .option(
      '-i, --input <name=source>',
      'an input under $SX_INPUT_DIR/<name>/ (repeatable): a path (uploaded first), a file_… or a job_… (its outputs); name:x=… unpacks an archive',
      collectInput,
      [] as RunOptions['input'],
    )
    .option('--max-runtime <duration>', 'stop it after this long: seconds, or 90m, 2h, 3d (default 24h)', durationSeconds)
    .option('-d, --detach', 'return at once with the job id instead of following it')
    .option('--idempotency-key <key>', 'retrying with the same key never starts a second job (default: a new random key)')
    .option('--cancel-on-interrupt', 'on Ctrl-C or SIGTERM cancel the job without asking (for CI)')
    .addOption(new Option('--interval <ms>', 'poll interval').default(1000).argParser(positiveInt).hideHelp())
    .addHelpText(
      'after',
      `
Examples:
  sx run --gpus 4 --image ghcr.io/you/train:1 -- python train.py --lr 3e-4
  sx run --image local/node:20 -- node "$PWD/examples/char-lm/train.mjs"

Exit code: 0 if the job succeeded; the job's own exit code if it exited non-zero; 1 for any other
failure (insufficient_balance, max_runtime_exceeded, infrastructure); 130 if it was cancelled.
Ctrl-C asks whether to cancel the job (No leaves it running). Without a terminal the first Ctrl-C
only says how to cancel and a second one cancels; SIGTERM leaves the job running (exit 143),
unless --cancel-on-interrupt.`,
    )
    .action(
      act(async (command: string[], opts: RunOptions) => {
        const api = client();
        const idempotencyKey = opts.idempotencyKey ?? newIdempotencyKey();
        const inputs = [];
        for (const input of opts.input) {
          if (/^job_[0-9a-z]{26}$/.test(input.source)) inputs.push({ name: input.name, job_id: input.source });
          else {
            const fileId = /^file_[0-9a-z]{26}$/.test(input.source) ? input.source : (await uploadPath(api, input.source, 'dataset', !opts.json && process.stderr.isTTY)).id;
            inputs.push({ name: input.name, file_id: fileId, extract: input.extract });
          }
        }
        const job = await api.jobs.create(
          {
            name: opts.name,
            image: opts.image,
            command,
            env: Object.keys(opts.env).length ? opts.env : undefined,
            gpu_count: opts.gpus,
            max_runtime_seconds: opts.maxRuntime,
            inputs: inputs.length ? inputs : undefined,
          },
          { idempotencyKey },
        );
        if (opts.detach) {
          if (opts.json) printJson(job);
          else print(job.id);
          return EXIT.detached;
        }
        if (!opts.json) {
          process.stderr.write(pc.dim(`sx: submitted ${job.id}: ${shellJoin(job.command)} on ${job.gpu_count}× ${job.gpu_type} (Ctrl-C to cancel or detach)\n`));
        }
        return followJob(api, job, {
          logs: true,
          // A terminal without a size (some CI pseudo-terminals) cannot hold a live line.
          live: Boolean(process.stdout.isTTY) && (process.stdout.rows ?? 0) > 0 && !opts.json,
          json: Boolean(opts.json),
          cancelOnInterrupt: Boolean(opts.cancelOnInterrupt),
          interactive: Boolean(process.stdin.isTTY && process.stdout.isTTY),
          intervalMs: opts.interval,
        });
      }),
    );
}

/** `-e KEY=value`, repeatable: collected into one object. */
/** `name=source`, or `name:x=source` to unpack an archive. */
function collectInput(value: string, previous: RunOptions['input']): RunOptions['input'] {
  const match = /^([a-z0-9_-]{1,64})(:x)?=(.+)$/.exec(value);
  if (!match) throw new InvalidArgumentError('must be name=path, name=file_…, name=job_… or name:x=archive (name: [a-z0-9_-]{1,64})');
  return [...previous, { name: match[1]!, source: match[3]!, extract: match[2] === ':x' }];
}

function collectEnv(value: string, previous: Record<string, string>): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq < 1) throw new InvalidArgumentError('must be KEY=value');
  return { ...previous, [value.slice(0, eq)]: value.slice(eq + 1) };
}

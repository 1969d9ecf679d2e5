import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lineParser } from '../../domain/metrics/parse';

const TRAINER = fileURLToPath(new URL('../../examples/char-lm/train.mjs', import.meta.url));
const ARGS = ['--steps', '400', '--checkpoint-every', '50', '--log-every', '10'];
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sx-char-lm-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs the trainer as a job would, with its checkpoint and output directories; `stopAt` signals it once its output matches. */
function train(name: string, stopAt?: { output: RegExp; signal: NodeJS.Signals }) {
  const env = { ...process.env, SX_CHECKPOINT_DIR: join(dir, name, 'checkpoints'), SX_OUTPUT_DIR: join(dir, name, 'output') };
  const child = spawn(process.execPath, [TRAINER, ...ARGS], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    if (stopAt && stopAt.output.test(output) && child.exitCode === null && !child.killed) child.kill(stopAt.signal);
  });
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal, output })),
  );
}

const modelOf = (name: string) => JSON.parse(readFileSync(join(dir, name, 'output', 'model.json'), 'utf8'));

describe('the example trainer (examples/char-lm)', () => {
  it('learns: the loss falls well below guessing, and it saves the model and a sample', async () => {
    const run = await train('straight');
    expect(run.code, run.output).toBe(0);
    expect(run.output).toMatch(/^starting from scratch/m);
    // Its loss is logged as JSON lines, which the service reads as metrics (domain/metrics).
    const points = run.output.split('\n').flatMap(lineParser([]));
    const losses = points.filter((p) => p.name === 'loss').map((p) => p.value);
    expect(losses.length).toBe(41);
    expect(points.filter((p) => p.name === 'val_loss').map((p) => p.step)).toEqual([50, 100, 150, 200, 250, 300, 350]);
    const model = modelOf('straight');
    expect(model).toMatchObject({ kind: 'char-mlp', steps: 400 });
    expect(model.val_loss).toBeLessThan(Math.log(model.vocab.length) - 1);
    expect(losses.at(-1)!).toBeLessThan(losses[0]! - 1);
    expect(readFileSync(join(dir, 'straight', 'output', 'sample.txt'), 'utf8')).toHaveLength(404);
  }, 120_000);

  it('killed mid-run and retried, resumes from its last checkpoint and ends with exactly the model of an uninterrupted run', async () => {
    // SIGKILL: no warning, so the retry starts from the last checkpoint written before it.
    const killed = await train('killed', { output: /^checkpoint step 150 /m, signal: 'SIGKILL' });
    expect(killed.signal).toBe('SIGKILL');
    expect(existsSync(join(dir, 'killed', 'output', 'model.json'))).toBe(false);
    // Only whole checkpoints: never a temporary file left as if it were one.
    expect(readdirSync(join(dir, 'killed', 'checkpoints')).every((f) => /^ckpt-\d{8}\.json(\.\d+\.tmp)?$/.test(f))).toBe(true);

    const retried = await train('killed');
    expect(retried.code, retried.output).toBe(0);
    const from = Number(/^resumed from checkpoint at step (\d+)/m.exec(retried.output)?.[1]);
    expect(from).toBeGreaterThanOrEqual(150);
    expect(retried.output).not.toMatch(/starting from scratch/);
    expect(retried.output).not.toMatch(new RegExp(`^\\{"step":${from},"loss"`, 'm'));

    // The optimizer's and the random generator's state are in the checkpoint, so resuming changes nothing.
    const straight = await train('reference');
    expect(modelOf('killed').params).toEqual(modelOf('reference').params);
    expect(straight.code).toBe(0);
  }, 120_000);

  it('on SIGTERM (the warning before a stop) checkpoints where it is and exits, and the retry carries on from there', async () => {
    const stopped = await train('terminated', { output: /^\{"step":120,"loss"/m, signal: 'SIGTERM' });
    expect(stopped.code).toBe(143);
    const at = Number(/^SIGTERM: checkpointed at step (\d+)/m.exec(stopped.output)?.[1]);
    expect(at).toBeGreaterThanOrEqual(120);

    const retried = await train('terminated');
    expect(retried.code).toBe(0);
    expect(retried.output).toMatch(new RegExp(`^resumed from checkpoint at step ${at} `, 'm'));
    expect(modelOf('terminated')).toMatchObject({ steps: 400 });
  }, 120_000);
});

#!/usr/bin/env node
// A small but genuine training job: a character-level language model (Bengio et al. 2003's MLP:
// embeddings of the previous few characters → tanh hidden layer → softmax over the next character),
// trained with Adam on Shakespeare's sonnets (sonnets.txt, public domain). Plain Node, no
// dependencies, so it runs anywhere `sx run` runs a command.
//
// It behaves as a training job on suanxiang-cloud should:
// - logs the training loss every --log-every steps, and the held-out loss at each checkpoint, as
//   JSON lines (`{"step": 10, "loss": 3.41}`): the service reads them as the job's metrics;
// - writes a checkpoint every --checkpoint-every steps to $SX_CHECKPOINT_DIR (write to a temporary
//   file, then rename: a checkpoint is either whole or absent), and on SIGTERM (the service's
//   warning before a stop) writes one more and exits;
// - resumes from the latest readable checkpoint, with the optimizer's state and the random
//   generator's, so a stopped-and-retried run continues exactly where it left off;
// - saves the trained model and a text sample to $SX_OUTPUT_DIR.
//
//   node examples/char-lm/train.mjs [--steps 1000] [--checkpoint-every 100] [--log-every 20] [--seed 42]
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const { values: args } = parseArgs({
  options: {
    steps: { type: 'string', default: '1000' },
    'checkpoint-every': { type: 'string', default: '100' },
    'log-every': { type: 'string', default: '20' },
    batch: { type: 'string', default: '32' },
    lr: { type: 'string', default: '0.01' },
    seed: { type: 'string', default: '42' },
    // The text given as the job's input `data` (sx run --input data=FILE), else the sonnets beside this file.
    text: { type: 'string', default: inputText() ?? join(here, 'sonnets.txt') },
  },
});
const STEPS = int(args.steps);

/** The one file of the job's input `data`, if it was given one. */
function inputText() {
  const dir = process.env.SX_INPUT_DIR ? join(process.env.SX_INPUT_DIR, 'data') : null;
  const files = dir && existsSync(dir) ? readdirSync(dir, { withFileTypes: true }).filter((e) => e.isFile()) : [];
  return files.length === 1 ? join(dir, files[0].name) : null;
}
const CHECKPOINT_EVERY = int(args['checkpoint-every']);
const LOG_EVERY = int(args['log-every']);
const BATCH = int(args.batch);
const LR = Number(args.lr);
const CONTEXT = 4;
const EMBED = 12;
const HIDDEN = 64;
const KEEP_CHECKPOINTS = 2;

const checkpointDir = resolve(process.env.SX_CHECKPOINT_DIR || 'checkpoints');
const outputDir = resolve(process.env.SX_OUTPUT_DIR || 'output');
mkdirSync(checkpointDir, { recursive: true });
mkdirSync(outputDir, { recursive: true });

// ---- data: characters as integers; the last tenth is held out to measure generalisation
const text = readFileSync(args.text, 'utf8');
const vocab = [...new Set(text)].sort();
const V = vocab.length;
const index = new Map(vocab.map((c, i) => [c, i]));
const ids = Int32Array.from(text, (c) => index.get(c));
const split = Math.floor(ids.length * 0.9);

// ---- parameters and Adam's moments, all Float64Array, by name (what a checkpoint stores)
const shapes = { C: V * EMBED, W1: CONTEXT * EMBED * HIDDEN, b1: HIDDEN, W2: HIDDEN * V, b2: V };
// Scratch buffers of one example's forward and backward pass, reused.
const x = new Float64Array(CONTEXT * EMBED);
const h = new Float64Array(HIDDEN);
const p = new Float64Array(V);
const dh = new Float64Array(HIDDEN);
const dx = new Float64Array(CONTEXT * EMBED);
const context = new Int32Array(CONTEXT);

let state = fresh(int(args.seed));
const resumed = loadLatestCheckpoint();
if (resumed) {
  state = resumed;
  console.log(`resumed from checkpoint at step ${state.step} (${join(checkpointDir, checkpointName(state.step))})`);
} else {
  console.log(`starting from scratch: ${ids.length} characters, vocabulary ${V}, ${Object.values(shapes).reduce((a, b) => a + b)} parameters`);
}

let stopRequested = false;
process.on('SIGTERM', () => {
  stopRequested = true;
});

const grads = Object.fromEntries(Object.entries(shapes).map(([k, n]) => [k, new Float64Array(n)]));
const started = Date.now();
while (state.step < STEPS) {
  const loss = trainStep();
  state.step++;
  if (state.step % LOG_EVERY === 0 || state.step === 1) console.log(JSON.stringify({ step: state.step, loss: Number(loss.toFixed(4)) }));
  if (state.step % CHECKPOINT_EVERY === 0 && state.step < STEPS) saveCheckpoint();
  if (stopRequested) {
    saveCheckpoint();
    console.log(`SIGTERM: checkpointed at step ${state.step}; a retried run resumes from here`);
    process.exit(143);
  }
  // Yield to the event loop now and then, so a SIGTERM is noticed between steps.
  if (state.step % 10 === 0) await new Promise((r) => setImmediate(r));
}

const valLoss = evaluate(split, ids.length);
const model = { kind: 'char-mlp', vocab, context: CONTEXT, embed: EMBED, hidden: HIDDEN, steps: state.step, val_loss: valLoss, params: toLists(state.params) };
writeAtomically(join(outputDir, 'model.json'), JSON.stringify(model));
const sample = generate(400);
writeAtomically(join(outputDir, 'sample.txt'), sample);
console.log(`done: ${state.step} steps in ${((Date.now() - started) / 1000).toFixed(1)} s, held-out loss ${valLoss.toFixed(4)} (uniform guessing: ${Math.log(V).toFixed(4)})`);
console.log(`saved the model to ${join(outputDir, 'model.json')}; a sample:\n---\n${sample}\n---`);

// ---------------------------------------------------------------------------------------------

function fresh(seed) {
  const rng = { s: seed >>> 0 };
  const params = {};
  for (const [name, n] of Object.entries(shapes)) {
    const fanIn = name === 'W1' ? CONTEXT * EMBED : name === 'W2' ? HIDDEN : 1;
    const scale = name.startsWith('b') ? 0 : name === 'C' ? 1 : 1 / Math.sqrt(fanIn);
    params[name] = Float64Array.from({ length: n }, () => gaussian(rng) * scale);
  }
  const zeros = () => Object.fromEntries(Object.entries(shapes).map(([k, n]) => [k, new Float64Array(n)]));
  return { step: 0, rng, params, m: zeros(), v: zeros() };
}

/** mulberry32: a small seeded generator whose whole state is one integer, so it checkpoints. */
function random(rng) {
  rng.s = (rng.s + 0x6d2b79f5) >>> 0;
  let t = rng.s;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

function gaussian(rng) {
  const u = 1 - random(rng);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random(rng));
}

/** Forward pass for one example's context; fills `x` (concatenated embeddings), `h` and `p` (probabilities). */
function forward(params, context, x, h, p) {
  const { C, W1, b1, W2, b2 } = params;
  for (let c = 0; c < CONTEXT; c++) for (let e = 0; e < EMBED; e++) x[c * EMBED + e] = C[context[c] * EMBED + e];
  for (let j = 0; j < HIDDEN; j++) {
    let sum = b1[j];
    for (let i = 0; i < CONTEXT * EMBED; i++) sum += x[i] * W1[i * HIDDEN + j];
    h[j] = Math.tanh(sum);
  }
  let max = -Infinity;
  for (let k = 0; k < V; k++) {
    let sum = b2[k];
    for (let j = 0; j < HIDDEN; j++) sum += h[j] * W2[j * V + k];
    p[k] = sum;
    if (sum > max) max = sum;
  }
  let total = 0;
  for (let k = 0; k < V; k++) total += p[k] = Math.exp(p[k] - max);
  for (let k = 0; k < V; k++) p[k] /= total;
}

/** One minibatch of cross-entropy with hand-written backpropagation, then an Adam update. */
function trainStep() {
  const { params } = state;
  for (const g of Object.values(grads)) g.fill(0);
  let loss = 0;
  for (let b = 0; b < BATCH; b++) {
    const at = CONTEXT + Math.floor(random(state.rng) * (split - CONTEXT));
    for (let c = 0; c < CONTEXT; c++) context[c] = ids[at - CONTEXT + c];
    const target = ids[at];
    forward(params, context, x, h, p);
    loss -= Math.log(p[target] + 1e-12);
    // dLoss/dlogits = p - onehot(target), averaged over the batch
    p[target] -= 1;
    dh.fill(0);
    for (let k = 0; k < V; k++) {
      const d = p[k] / BATCH;
      grads.b2[k] += d;
      for (let j = 0; j < HIDDEN; j++) {
        grads.W2[j * V + k] += h[j] * d;
        dh[j] += params.W2[j * V + k] * d;
      }
    }
    dx.fill(0);
    for (let j = 0; j < HIDDEN; j++) {
      const dpre = dh[j] * (1 - h[j] * h[j]);
      grads.b1[j] += dpre;
      for (let i = 0; i < CONTEXT * EMBED; i++) {
        grads.W1[i * HIDDEN + j] += x[i] * dpre;
        dx[i] += params.W1[i * HIDDEN + j] * dpre;
      }
    }
    for (let c = 0; c < CONTEXT; c++) for (let e = 0; e < EMBED; e++) grads.C[context[c] * EMBED + e] += dx[c * EMBED + e];
  }
  adam();
  return loss / BATCH;
}

function adam() {
  const beta1 = 0.9;
  const beta2 = 0.999;
  const t = state.step + 1;
  // Cosine decay to a tenth of the learning rate over the run.
  const lr = LR * (0.1 + 0.9 * 0.5 * (1 + Math.cos((Math.PI * state.step) / STEPS)));
  const c1 = 1 - beta1 ** t;
  const c2 = 1 - beta2 ** t;
  for (const name of Object.keys(shapes)) {
    const w = state.params[name];
    const g = grads[name];
    const m = state.m[name];
    const v = state.v[name];
    for (let i = 0; i < w.length; i++) {
      m[i] = beta1 * m[i] + (1 - beta1) * g[i];
      v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i];
      w[i] -= (lr * (m[i] / c1)) / (Math.sqrt(v[i] / c2) + 1e-8);
    }
  }
}

/** Mean cross-entropy over every position of ids[from, to). */
function evaluate(from, to) {
  let loss = 0;
  let n = 0;
  for (let at = Math.max(from, CONTEXT); at < to; at++) {
    for (let c = 0; c < CONTEXT; c++) context[c] = ids[at - CONTEXT + c];
    forward(state.params, context, x, h, p);
    loss -= Math.log(p[ids[at]] + 1e-12);
    n++;
  }
  return loss / n;
}

/** Samples text from the model, seeded by the first characters of the corpus (a fixed seed, so it is repeatable). */
function generate(length) {
  const rng = { s: 7 };
  const out = [...ids.slice(0, CONTEXT)];
  for (let i = 0; i < length; i++) {
    for (let c = 0; c < CONTEXT; c++) context[c] = out[out.length - CONTEXT + c];
    forward(state.params, context, x, h, p);
    let r = random(rng);
    let k = 0;
    while (k < V - 1 && (r -= p[k]) > 0) k++;
    out.push(k);
  }
  return out.map((i) => vocab[i]).join('');
}

function checkpointName(step) {
  return `ckpt-${String(step).padStart(8, '0')}.json`;
}

function saveCheckpoint() {
  const data = { step: state.step, rng: state.rng.s, params: toLists(state.params), m: toLists(state.m), v: toLists(state.v) };
  const path = join(checkpointDir, checkpointName(state.step));
  writeAtomically(path, JSON.stringify(data));
  // Older checkpoints beyond the last few are only disk space.
  const all = listCheckpoints();
  for (const old of all.slice(0, Math.max(0, all.length - KEEP_CHECKPOINTS))) rmSync(join(checkpointDir, old), { force: true });
  const valLoss = Number(evaluate(split, ids.length).toFixed(4));
  console.log(JSON.stringify({ step: state.step, val_loss: valLoss }));
  console.log(`checkpoint step ${state.step} -> ${path}`);
}

function listCheckpoints() {
  return readdirSync(checkpointDir).filter((f) => /^ckpt-\d{8}\.json$/.test(f)).sort();
}

/** The newest checkpoint that reads back whole; a damaged one is skipped, not fatal. */
function loadLatestCheckpoint() {
  for (const name of listCheckpoints().reverse()) {
    try {
      const data = JSON.parse(readFileSync(join(checkpointDir, name), 'utf8'));
      const arrays = (lists) => Object.fromEntries(Object.entries(shapes).map(([k, n]) => {
        if (lists[k]?.length !== n) throw new Error(`${k} has the wrong shape`);
        return [k, Float64Array.from(lists[k])];
      }));
      return { step: data.step, rng: { s: data.rng }, params: arrays(data.params), m: arrays(data.m), v: arrays(data.v) };
    } catch (error) {
      console.log(`skipping unreadable checkpoint ${name}: ${error.message}`);
    }
  }
  return undefined;
}

/** Write to a temporary file in the same directory, then rename over the target: never half a file. */
function writeAtomically(path, contents) {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, contents);
  renameSync(tmp, path);
}

function toLists(named) {
  return Object.fromEntries(Object.entries(named).map(([k, a]) => [k, Array.from(a)]));
}

function int(value) {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`expected a whole number above 0, got ${value}`);
  return n;
}

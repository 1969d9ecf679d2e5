/**
 * The console's pure parts: what a job may cost, usage per day, the form's text fields, and errors as
 * one sentence. No DOM here, so they are tested in Node.
 */
import { SxApiError, SxConnectionError } from '../../sdk/errors';
import type { MessageKey, Params } from './i18n';

export interface Estimate {
  /** GPU-seconds if the job runs its whole maximum runtime. */
  maxGpuSeconds: number;
  /** What the trial would pay of those, free. */
  trialGpuSeconds: number;
  /** Fen charged to credits for the rest, rounded up. */
  maxCost: number;
  /** Wall-clock seconds of this job the balance can pay for (trial first, then credits). */
  coveredSeconds: number;
}

/**
 * What a job may cost at most and how long the balance pays for it, by the rules of API.md: the
 * trial pays A100 GPU-seconds first, credits the rest at `fenPerGpuHour`.
 */
export function estimateJob(input: {
  gpuCount: number;
  maxRuntimeSeconds: number;
  fenPerGpuHour: number;
  available: { trial_gpu_seconds: number; amount: { amount: number } };
}): Estimate {
  const { gpuCount, maxRuntimeSeconds, fenPerGpuHour, available } = input;
  const maxGpuSeconds = gpuCount * maxRuntimeSeconds;
  const trialGpuSeconds = Math.min(maxGpuSeconds, available.trial_gpu_seconds);
  const maxCost = Math.ceil(((maxGpuSeconds - trialGpuSeconds) * fenPerGpuHour) / 3600);
  const paidGpuSeconds = fenPerGpuHour > 0 ? Math.floor((available.amount.amount * 3600) / fenPerGpuHour) : Number.POSITIVE_INFINITY;
  const coveredSeconds = gpuCount > 0 ? Math.floor((available.trial_gpu_seconds + paidGpuSeconds) / gpuCount) : 0;
  return { maxGpuSeconds, trialGpuSeconds, maxCost, coveredSeconds: Math.min(coveredSeconds, maxRuntimeSeconds) };
}

/** GPU-seconds per UTC day, oldest first, every day of [fromMs, toMs] present (zero when idle). */
export function gpuSecondsPerDay(lines: ReadonlyArray<{ gpu_seconds: number; period_end: string }>, fromMs: number, toMs: number) {
  const DAY = 86_400_000;
  const first = Math.floor(fromMs / DAY);
  const last = Math.floor(toMs / DAY);
  const days = Array.from({ length: Math.max(0, last - first + 1) }, (_, i) => ({ dayMs: (first + i) * DAY, gpuSeconds: 0 }));
  for (const line of lines) {
    const index = Math.floor(Date.parse(line.period_end) / DAY) - first;
    const day = days[index];
    if (day) day.gpuSeconds += line.gpu_seconds;
  }
  return days;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; line: number };

/** `NAME=value` lines (blank lines skipped) into an object; the first bad line's number otherwise. */
export function parseEnv(text: string): Parsed<Record<string, string>> {
  const env: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, '');
    if (!line.trim()) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) return { ok: false, line: i + 1 };
    env[line.slice(0, eq).trim()] = line.slice(eq + 1);
  }
  return { ok: true, value: env };
}

/** `name=regex` lines into metric definitions; the regex is everything after the first `=`. */
export function parseMetricDefinitions(text: string): Parsed<Array<{ name: string; regex: string }>> {
  const defs: Array<{ name: string; regex: string }> = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, '');
    if (!line.trim()) continue;
    const eq = line.indexOf('=');
    if (eq <= 0 || eq === line.length - 1) return { ok: false, line: i + 1 };
    defs.push({ name: line.slice(0, eq).trim(), regex: line.slice(eq + 1) });
  }
  return { ok: true, value: defs };
}

/** One argument per non-blank line (arguments may hold spaces, so no shell-like splitting). */
export const parseCommand = (text: string) =>
  text
    .split('\n')
    .map((l) => l.replace(/\r$/, ''))
    .filter((l) => l.trim() !== '');

type T = (key: MessageKey, params?: Params) => string;

/**
 * Any error as one readable sentence in the page's language: the problem's type in words, then the
 * server's detail (which names the invalid fields). Never the raw JSON of an answer.
 */
export function errorSentence(error: unknown, t: T): string {
  if (error instanceof SxApiError) {
    const key = `error.${error.type}` as MessageKey;
    const known = (
      [
        'error.unauthorized', 'error.not_found', 'error.conflict', 'error.invalid_request', 'error.insufficient_balance',
        'error.invalid_state', 'error.rate_limited', 'error.account_suspended', 'error.quota_exceeded',
        'error.payload_too_large', 'error.idempotency_key_reuse',
      ] as const
    ).includes(key as never);
    const lead = known ? t(key) : t('error.other', { status: String(error.status) });
    const fields = error.errors.map((e) => `${e.path}: ${e.message}`);
    const detail = error.detail ?? (fields.length ? fields.join('; ') : '');
    return detail && !lead.includes(detail) ? `${lead} ${sentence(detail)}` : lead;
  }
  if (error instanceof SxConnectionError) return t('error.connection');
  const message = error instanceof Error ? error.message : String(error);
  return t('error.unexpected', { message });
}

/** The detail as a sentence: capitalised (unless it starts with a field name like `gpu_count`), ending in a full stop. */
const sentence = (text: string) => {
  const trimmed = text.trim();
  const capital = /^[a-z]+\b(?![_.])/.test(trimmed) ? trimmed.charAt(0).toUpperCase() + trimmed.slice(1) : trimmed;
  return /[.!?。！？]$/.test(capital) ? capital : `${capital}.`;
};

/** A job input's name (`[a-z0-9_-]{1,64}`) from a file name: `Train Set.jsonl` → `train-set`. */
export function inputName(filename: string): string {
  const base = filename.replace(/\.[^.]*$/, '').toLowerCase();
  const name = base.replace(/[^a-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 64);
  return name || 'input';
}

/**
 * A metric's points as a chart series: by step when every point has one (a training loop's own
 * count), else by time in seconds.
 */
export function metricSeries(metric: { name: string; points: Array<{ step: number | null; time: string; value: number }>; last: { step: number | null; value: number } }) {
  const bySteps = metric.points.length > 0 && metric.points.every((p) => p.step !== null);
  return {
    bySteps,
    last: metric.last.value,
    lastStep: metric.last.step,
    series: {
      label: metric.name,
      x: metric.points.map((p) => (bySteps ? (p.step as number) : Date.parse(p.time) / 1000)),
      y: metric.points.map((p) => p.value),
    },
  };
}

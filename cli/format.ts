import Table from 'cli-table3';
import pc from 'picocolors';
import type { Job } from '../sdk/client';

/**
 * Aligned columns without box borders (as `gh`, `kubectl` and `docker ps` print them), through
 * cli-table3, which measures wide (CJK) characters and colour codes correctly.
 */
export function table(head: string[], rows: Array<Array<string | number | null | undefined>>): string {
  const t = new Table({
    head: head.map((h) => pc.bold(h.toUpperCase())),
    chars: {
      top: '', 'top-mid': '', 'top-left': '', 'top-right': '', bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '',
      left: '', 'left-mid': '', mid: '', 'mid-mid': '', right: '', 'right-mid': '', middle: '  ',
    },
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0, compact: true },
  });
  for (const row of rows) t.push(row.map((cell) => (cell === null || cell === undefined || cell === '' ? pc.dim('-') : String(cell))));
  // cli-table3 pads the last column too; trailing blanks only get in the way of scripts and tests.
  return t.toString().split('\n').map((line) => line.trimEnd()).join('\n');
}

/** Key–value lines, keys aligned: the human form of one object. */
export function details(pairs: Array<[string, string | number | null | undefined]>): string {
  const width = Math.max(...pairs.map(([k]) => k.length));
  return pairs.map(([k, v]) => `${pc.dim(k.padEnd(width))}  ${v === null || v === undefined || v === '' ? pc.dim('-') : v}`).join('\n');
}

const relative = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });
const UNITS: Array<[Intl.RelativeTimeFormatUnit, number]> = [
  ['year', 365 * 86400], ['month', 30 * 86400], ['week', 7 * 86400], ['day', 86400], ['hour', 3600], ['minute', 60], ['second', 1],
];

/** "3 minutes ago", "in 2 hours", "now" (the built-in Intl.RelativeTimeFormat; no library needed). */
export function ago(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '';
  const seconds = Math.round((Date.parse(iso) - now) / 1000);
  if (Math.abs(seconds) < 5) return 'just now';
  for (const [unit, size] of UNITS) {
    if (Math.abs(seconds) >= size || unit === 'second') return relative.format(Math.trunc(seconds / size), unit);
  }
  return iso;
}

/** 75 → "1m15s", 3725 → "1h02m05s". */
export function duration(totalSeconds: number): string {
  const s = Math.max(0, Math.floor(totalSeconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (h) return `${h}h${String(m).padStart(2, '0')}m${String(sec).padStart(2, '0')}s`;
  if (m) return `${m}m${String(sec).padStart(2, '0')}s`;
  return `${sec}s`;
}

/** Integer minor units to a display amount: `{ amount: 1250, currency: 'CNY' }` → "¥12.50". */
export function money(value: { amount: number; currency: string }): string {
  const symbol = value.currency === 'CNY' ? '¥' : `${value.currency} `;
  const sign = value.amount < 0 ? '-' : '';
  const abs = Math.abs(value.amount);
  return `${sign}${symbol}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

export function status(name: string): string {
  switch (name) {
    case 'succeeded':
      return pc.green(name);
    case 'failed':
      return pc.red(name);
    case 'cancelled':
      return pc.yellow(name);
    case 'running':
      return pc.cyan(name);
    default:
      return pc.dim(name);
  }
}

/** What a job has used, for tables and the status line: "12 GPU·s (trial 12)" or with a cost. */
export function usage(job: Pick<Job, 'usage'>): string {
  const { gpu_seconds, trial_gpu_seconds, cost } = job.usage;
  const parts = [`${gpu_seconds} GPU·s`];
  if (cost.amount > 0) parts.push(money(cost));
  else if (trial_gpu_seconds > 0) parts.push('trial');
  return parts.join(' ');
}

/** The command line as a shell would show it, quoting only where needed. */
export function shellJoin(args: string[]): string {
  return args.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

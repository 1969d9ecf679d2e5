import { InvalidArgumentError } from 'commander';

/** Argument parsers shared by several commands: each throws commander's InvalidArgumentError, so a bad value is a usage error (exit 2). */

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a whole number above 0');
  return n;
}

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** "90" (seconds), "90s", "30m", "2h", "3d" → seconds. */
export function durationSeconds(value: string): number {
  const found = /^(\d+)([smhd]?)$/.exec(value.trim());
  if (!found) throw new InvalidArgumentError('must be seconds, or a number with s, m, h or d');
  return Number(found[1]) * UNIT_SECONDS[found[2] || 's']!;
}

/** An ISO time as is, or "7d"/"24h"/"30m" as that long before now. */
export function relativeTime(value: string): string {
  if (/^\d+[smhd]$/.test(value)) return new Date(Date.now() - durationSeconds(value) * 1000).toISOString();
  if (Number.isNaN(Date.parse(value))) throw new InvalidArgumentError('must be an ISO 8601 time or e.g. 7d');
  return new Date(value).toISOString();
}

/** Nearest-rank percentile of a sample (p in 0..100). */
export function percentile(sample: number[], p: number): number {
  if (sample.length === 0) return Number.NaN;
  const sorted = [...sample].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/**
 * Runs `task` from `concurrency` workers for `durationMs`; returns completed tasks per second.
 * Every task must succeed: a failed one fails the benchmark rather than flattering it.
 */
export async function throughput(task: () => Promise<void>, options: { concurrency: number; durationMs: number }): Promise<number> {
  const started = performance.now();
  const deadline = started + options.durationMs;
  let done = 0;
  await Promise.all(
    Array.from({ length: options.concurrency }, async () => {
      while (performance.now() < deadline) {
        await task();
        done++;
      }
    }),
  );
  return done / ((performance.now() - started) / 1000);
}

export const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

import type { MetricSeries, SxClient } from '../sdk/client';

/** A value in a few significant digits: `1.82`, `0.000300`, `12345`. */
export function formatValue(value: number): string {
  if (value === 0) return '0';
  if (Math.abs(value) >= 1000 && Math.abs(value) < 1e6) return String(Math.round(value));
  if (Math.abs(value) >= 0.01 && Math.abs(value) < 1000) return String(Number(value.toPrecision(4)));
  return value.toExponential(2);
}

/** The last value of each metric, as `loss 1.82  lr 3.00e-4`: for status lines. */
export function lastValues(series: readonly MetricSeries[], max = 4): string {
  const shown = series.slice(0, max).map((s) => `${s.name} ${formatValue(s.last.value)}`);
  return [...shown, ...(series.length > max ? [`+${series.length - max} more`] : [])].join('  ');
}

/** The last point of each metric of a job; none when they cannot be read (metrics never fail a command). */
export async function latestMetrics(api: SxClient, jobId: string): Promise<MetricSeries[]> {
  try {
    return await api.jobs.metrics(jobId, { maxPoints: 2 });
  } catch {
    return [];
  }
}

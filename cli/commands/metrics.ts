import { InvalidArgumentError, Option, type Command } from 'commander';
import pc from 'picocolors';
import type { MetricSeries } from '../../sdk/client';
import { formatValue } from '../metrics';
import { UsageError, type CliContext } from '../context';
import { positiveInt } from '../options';

/** `sx jobs metrics`: each metric of a job as a terminal chart, or as JSON or CSV. */
export function registerMetricsCommands(jobs: Command, cli: CliContext): void {
  const { act, client, print, printJson } = cli;
  jobs
    .command('metrics')
    .description("a job's metrics (from its log), each drawn as a chart")
    .argument('<id>')
    .option('--name <metric>', 'only this metric')
    .addOption(new Option('--points <n>', 'points per series (2-10000; default: the chart width)').argParser(pointCount))
    .addOption(new Option('--height <rows>', 'rows of each chart').default(10).argParser(positiveInt))
    .option('--json', 'print the series as JSON')
    .option('--csv', 'print name,step,time,value lines')
    .action(
      act(async (id: string, opts: { name?: string; points?: number; height: number; json?: boolean; csv?: boolean }) => {
        if (opts.json && opts.csv) throw new UsageError('choose one of --json and --csv');
        const width = Math.max(20, (process.stdout.columns ?? 80) - 14);
        const series = await client().jobs.metrics(id, { name: opts.name, maxPoints: opts.points ?? (opts.json || opts.csv ? undefined : width) });
        if (opts.json) return printJson(series);
        if (opts.csv) return print(toCsv(series).replace(/\n$/, ''));
        if (series.length === 0) return print(pc.dim(`no metrics yet: ${id} has logged no JSON metric lines (or none its metric_definitions match)`));
        const { plot } = await import('asciichart');
        print(series.map((s) => `${pc.bold(s.name)}  ${pc.dim(`last ${formatValue(s.last.value)}${s.last.step !== null ? ` at step ${s.last.step}` : ''}, ${s.points.length} points`)}\n${chart(plot, s, opts.height)}`).join('\n\n'));
      }),
    );
}

function chart(plot: (values: number[], config: { height: number; format: (x: number) => string }) => string, series: MetricSeries, height: number): string {
  const values = series.points.map((p) => p.value);
  // asciichart needs two points to draw a line; a single point is drawn flat.
  return plot(values.length === 1 ? [values[0]!, values[0]!] : values, { height, format: (x) => formatValue(x).padStart(10) });
}

/** CSV of every point: `name,step,time,value`, one line each, a header first. */
export function toCsv(series: readonly MetricSeries[]): string {
  const lines = ['name,step,time,value'];
  for (const s of series) for (const p of s.points) lines.push(`${s.name},${p.step ?? ''},${p.time},${p.value}`);
  return `${lines.join('\n')}\n`;
}

function pointCount(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 2 || n > 10_000) throw new InvalidArgumentError('must be a whole number from 2 to 10000');
  return n;
}

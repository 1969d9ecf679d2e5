/**
 * `npm run bench:metrics`: the metrics parser's throughput on a realistic 1M-line training log with
 * three regexes, beside a bare `split('\n')` pass over the same text; then, on the local stack,
 * `GET /v1/jobs/{id}/metrics` of a 100,000-point series downsampled to 1,000 beside `GET /v1/jobs/{id}`.
 * Record results in BENCHMARKS.md.
 */
import '../infra/local/quiet-sdk';
import { RE2JS } from 're2js';
import { performance } from 'node:perf_hooks';
import { compileDefinitions } from '../domain/metrics/definitions';
import { lineParser } from '../domain/metrics/parse';
import { createDynamoClients } from '../functions/adapters/dynamodb';
import { MetricStore } from '../functions/job-metrics/metric-store';
import { apiClient, startStackProcess } from '../infra/local/stack-process';
import { tableNames } from '../infra/tables';
import { fmt, percentile } from './stats';

const LINES = 1_000_000;
const SERIES_POINTS = 100_000;
const READS = 30;

/** A log as trainers write it: mostly progress and info lines, one metric line in ten. */
function trainingLog(): string {
  const lines: string[] = [];
  for (let i = 0; i < LINES; i++) {
    if (i % 10 === 0) lines.push(`2026-12-03 10:00:${String(i % 60).padStart(2, '0')} INFO step ${i} loss=${(3 / (1 + i / 1e5)).toFixed(4)} lr=3.0e-04 acc: ${(50 + (i % 50)).toFixed(1)}%`);
    else if (i % 10 === 5) lines.push(` ${i % 100}%|${'█'.repeat(i % 20)}${' '.repeat(20 - (i % 20))}| ${i}/${LINES} [01:23<04:56, 12.34it/s]`);
    else lines.push(`2026-12-03 10:00:00 INFO dataloader worker ${i % 8} prefetched batch ${i} (shard ${i % 64}, 256 samples)`);
  }
  return lines.join('\n');
}

function parserThroughput() {
  const text = trainingLog();
  const definitions = compileDefinitions([
    { name: 'loss', regex: 'loss=([0-9.eE+-]+)' },
    { name: 'lr', regex: 'lr=([0-9.eE+-]+)' },
    { name: 'acc', regex: 'acc: ([0-9.]+)%' },
  ], RE2JS);
  const parse = lineParser(definitions);
  const json = lineParser([]);
  const time = (fn: () => number) => {
    fn(); // warm-up
    const start = performance.now();
    const result = fn();
    return { seconds: (performance.now() - start) / 1000, result };
  };
  const bare = time(() => text.split('\n').reduce((n, line) => n + line.length, 0));
  const regexes = time(() => text.split('\n').reduce((n, line) => n + parse(line).length, 0));
  const jsonOnly = time(() => text.split('\n').reduce((n, line) => n + json(line).length, 0));
  const rate = (s: number) => LINES / s;
  console.log(`parser, ${fmt(LINES)} lines (${fmt(text.length / 2 ** 20, 1)} MiB), one metric line in ten:`);
  console.log(`  split('\\n') alone: ${fmt(rate(bare.seconds))} lines/s`);
  console.log(`  3 regexes (re2js): ${fmt(rate(regexes.seconds))} lines/s, ${fmt(regexes.result)} points; ratio ${fmt(bare.seconds / regexes.seconds, 3)}`);
  console.log(`  default (JSON/Trainer lines): ${fmt(rate(jsonOnly.seconds))} lines/s; ratio ${fmt(bare.seconds / jsonOnly.seconds, 3)}`);
}

async function readLatency() {
  const stack = await startStackProcess();
  try {
    const signup = await apiClient(stack.url).post('/v1/signup', { email: 'bench-metrics@example.com' });
    const api = apiClient(stack.url, signup.body.api_key);
    const created = await api.post('/v1/jobs', { image: 'bench/metrics:1', command: ['true'], gpu_count: 1, max_runtime_seconds: 60 });
    const jobId = created.body.id as string;
    // 100,000 points of one metric, written as the log feed writes them (1,000 points per item).
    const { doc } = createDynamoClients({ endpoint: stack.dynamoEndpoint });
    const store = new MetricStore(doc, tableNames('sx-local').metrics);
    const t0 = Date.now() - SERIES_POINTS * 100;
    const points = Array.from({ length: SERIES_POINTS }, (_, i) => ({
      name: 'loss',
      value: 3 / (1 + i / 1e4) + 0.05 * Math.sin(i / 50),
      step: i,
      timeMs: t0 + i * 100,
      position: String(i).padStart(15, '0'),
    }));
    for (let i = 0; i < points.length; i += 10_000) await store.record(jobId, points.slice(i, i + 10_000), Date.now());
    doc.destroy();
    const measure = async (path: string) => {
      const times: number[] = [];
      for (let i = 0; i < READS + 3; i++) {
        const start = performance.now();
        const res = await api.get(path);
        if (res.status !== 200) throw new Error(`GET ${path}: ${res.status}`);
        if (i >= 3) times.push(performance.now() - start);
      }
      return times;
    };
    const metrics = await measure(`/v1/jobs/${jobId}/metrics?max_points=1000`);
    const check = await api.get(`/v1/jobs/${jobId}/metrics?max_points=1000`);
    if (check.body.data[0].points.length !== 1000) throw new Error('expected 1,000 points');
    const job = await measure(`/v1/jobs/${jobId}`);
    const p50 = (t: number[]) => percentile(t, 50);
    console.log(
      `GET /v1/jobs/{id}/metrics, ${fmt(SERIES_POINTS)} points → 1,000 (${READS} reads, one at a time): p50 ${fmt(p50(metrics))} ms, p99 ${fmt(percentile(metrics, 99))} ms; ` +
        `GET /v1/jobs/{id}: p50 ${fmt(p50(job))} ms, p99 ${fmt(percentile(job, 99))} ms; ratio of p50s ${fmt(p50(metrics) / p50(job), 1)}`,
    );
  } finally {
    await stack.stop();
  }
}

parserThroughput();
readLatency().catch((error) => {
  console.error(`bench: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});

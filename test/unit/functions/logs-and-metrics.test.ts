import { afterEach, describe, expect, it, vi } from 'vitest';
import { logger } from '../../../functions/logger';
import { METRIC, recordMetric } from '../../../functions/metrics';

afterEach(() => vi.restoreAllMocks());

/** What is written to stdout and stderr while `act` runs, line by line. */
function outputOf(act: () => void): string[] {
  const lines: string[] = [];
  const capture = (chunk: string | Uint8Array) => {
    lines.push(...String(chunk).split('\n').filter(Boolean));
    return true;
  };
  const writes = [vi.spyOn(process.stdout, 'write').mockImplementation(capture), vi.spyOn(process.stderr, 'write').mockImplementation(capture)];
  act();
  for (const write of writes) write.mockRestore();
  return lines;
}

describe('logs and metrics', () => {
  it('publishes a metric at once as one Embedded Metric Format line CloudWatch turns into a metric', () => {
    const [line, ...rest] = outputOf(() => recordMetric(METRIC.gpuSecondsSettled, 16));
    expect(rest).toEqual([]);
    const emf = JSON.parse(line!);
    expect(emf._aws.CloudWatchMetrics).toEqual([{ Namespace: 'suanxiang-cloud', Dimensions: [['service']], Metrics: [{ Name: 'GpuSecondsSettled', Unit: 'Count' }] }]);
    expect(emf).toMatchObject({ service: 'suanxiang-cloud', GpuSecondsSettled: 16 });
  });

  it('logs one JSON line per call, with the attributes and an error written with its message and stack', () => {
    const [line] = outputOf(() => logger.error('reconcile failed for a job', { jobId: 'job_1', error: new Error('throttled') }));
    expect(JSON.parse(line!)).toMatchObject({
      level: 'ERROR',
      message: 'reconcile failed for a job',
      service: 'suanxiang-cloud',
      jobId: 'job_1',
      error: { name: 'Error', message: 'throttled', stack: expect.stringContaining('logs-and-metrics.test.ts') },
    });
  });
});

import { describe, expect, it } from 'vitest';
import { stripVTControlCharacters } from 'node:util';
import { toCsv } from '../../../cli/commands/metrics';
import { statusLine } from '../../../cli/follow';
import type { Job } from '../../../sdk/client';
import { formatValue, lastValues } from '../../../cli/metrics';

const series = (name: string, values: number[]) => {
  const points = values.map((value, i) => ({ step: i, time: `2026-12-03T10:00:0${i}.000Z`, value }));
  return { name, points, last: points.at(-1)! };
};

describe("sx's metric output", () => {
  it('shows values in a few significant digits', () => {
    expect([1.8234, 0.0003, 12345, 0, -2.5, 3e9].map(formatValue)).toEqual(['1.823', '3.00e-4', '12345', '0', '-2.5', '3.00e+9']);
  });

  it('puts the last value of each metric on the status line, four at most', () => {
    expect(lastValues([series('loss', [2, 1.82]), series('lr', [0.0003])])).toBe('loss 1.82  lr 3.00e-4');
    expect(lastValues(['a', 'b', 'c', 'd', 'e', 'f'].map((n) => series(n, [1])))).toBe('a 1  b 1  c 1  d 1  +2 more');
    expect(lastValues([])).toBe('');
  });

  it("ends sx run's live status line with the latest values, after the job's state and cost", () => {
    const job: Job = {
      id: 'job_x', object: 'job', name: null, status: 'running', image: 'a/b:1', command: ['train'], gpu_type: 'a100', gpu_count: 1,
      max_runtime_seconds: 600, held_seconds: 600, created_at: '2026-12-03T10:00:00.000Z', started_at: '2026-12-03T10:00:05.000Z', finished_at: null,
      cancel_requested_at: null, failure_reason: null, exit_code: null, status_reason: null, output_uri: null,
      usage: { gpu_seconds: 60, cost: { amount: 0, currency: 'CNY' }, trial_gpu_seconds: 60 },
    };
    const now = Date.parse('2026-12-03T10:01:05.000Z');
    const line = stripVTControlCharacters(statusLine(job, now, lastValues([series('loss', [2, 1.82]), series('lr', [0.0003])])));
    expect(line).toMatch(/^● running .*held .* left {2}· {2}loss 1\.82 {2}lr 3\.00e-4 {2}job_x$/);
    expect(stripVTControlCharacters(statusLine(job, now))).not.toMatch(/loss/);
  });

  it('prints CSV with a header and an empty step where there is none', () => {
    const noStep = { ...series('acc', [0.5]), points: [{ step: null, time: '2026-12-03T10:00:00.000Z', value: 0.5 }] };
    expect(toCsv([series('loss', [2, 1]), noStep])).toBe(
      'name,step,time,value\nloss,0,2026-12-03T10:00:00.000Z,2\nloss,1,2026-12-03T10:00:01.000Z,1\nacc,,2026-12-03T10:00:00.000Z,0.5\n',
    );
  });
});

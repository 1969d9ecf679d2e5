import { describe, expect, it } from 'vitest';
import { toCsv } from '../../../cli/commands/metrics';
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

  it('prints CSV with a header and an empty step where there is none', () => {
    const noStep = { ...series('acc', [0.5]), points: [{ step: null, time: '2026-12-03T10:00:00.000Z', value: 0.5 }] };
    expect(toCsv([series('loss', [2, 1]), noStep])).toBe(
      'name,step,time,value\nloss,0,2026-12-03T10:00:00.000Z,2\nloss,1,2026-12-03T10:00:01.000Z,1\nacc,,2026-12-03T10:00:00.000Z,0.5\n',
    );
  });
});

import { describe, expect, it } from 'vitest';
import { lttb } from '../../../../domain/metrics/downsample';

const series = (values: number[]) => values.map((value, i) => ({ i, value }));
const down = (points: Array<{ i: number; value: number }>, n: number) => lttb(points, n, (p) => p.i, (p) => p.value);

describe('downsampling a series (LTTB)', () => {
  it('keeps a short series as it is', () => {
    const points = series([3, 1, 2]);
    expect(down(points, 3)).toBe(points);
  });

  it('keeps exactly the threshold, the first and last points, in order', () => {
    const points = series(Array.from({ length: 10_000 }, (_, i) => Math.sin(i / 100)));
    const kept = down(points, 100);
    expect(kept).toHaveLength(100);
    expect(kept[0]).toBe(points[0]);
    expect(kept.at(-1)).toBe(points.at(-1));
    expect(kept.every((p, k) => k === 0 || p.i > kept[k - 1]!.i)).toBe(true);
  });

  it('keeps a lone spike that striding would drop', () => {
    const values = Array.from({ length: 1000 }, () => 1);
    values[501] = 50;
    expect(down(series(values), 10).map((p) => p.value)).toContain(50);
  });

  it('refuses a threshold below 2', () => expect(() => down(series([1, 2, 3]), 1)).toThrow(RangeError));
});

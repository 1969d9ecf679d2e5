/**
 * Largest-Triangle-Three-Buckets (Steinarsson, 2013): picks `threshold` of the points so a chart of
 * them looks like a chart of all. The first and last points are always kept; each bucket between
 * keeps the point forming the largest triangle with the point kept before it and the average of the
 * next bucket, so peaks and dips survive where plain striding would drop them. Linear in the points.
 * Points with `x` in ascending order (the index serves, for points evenly spaced in the log); returns the input itself when it is no longer than `threshold`.
 * @throws RangeError when `threshold` is below 2.
 */
export function lttb<P>(points: readonly P[], threshold: number, x: (p: P, index: number) => number, y: (p: P) => number): readonly P[] {
  if (threshold < 2) throw new RangeError('threshold must be at least 2');
  if (points.length <= threshold) return points;
  const sampled: P[] = [points[0]!];
  const every = (points.length - 2) / (threshold - 2);
  let kept = 0;
  for (let bucket = 0; bucket < threshold - 2; bucket++) {
    // The average of the next bucket (the last point, for the last bucket).
    const nextStart = Math.floor((bucket + 1) * every) + 1;
    const nextEnd = Math.min(Math.floor((bucket + 2) * every) + 1, points.length);
    let avgX = 0;
    let avgY = 0;
    for (let i = nextStart; i < nextEnd; i++) {
      avgX += x(points[i]!, i);
      avgY += y(points[i]!);
    }
    const count = nextEnd - nextStart;
    avgX /= count;
    avgY /= count;
    // The point of this bucket with the largest triangle.
    const start = Math.floor(bucket * every) + 1;
    const end = Math.floor((bucket + 1) * every) + 1;
    const ax = x(points[kept]!, kept);
    const ay = y(points[kept]!);
    let largest = -1;
    let chosen = start;
    for (let i = start; i < end; i++) {
      const area = Math.abs((ax - avgX) * (y(points[i]!) - ay) - (ax - x(points[i]!, i)) * (avgY - ay));
      if (area > largest) {
        largest = area;
        chosen = i;
      }
    }
    sampled.push(points[chosen]!);
    kept = chosen;
  }
  sampled.push(points[points.length - 1]!);
  return sampled;
}

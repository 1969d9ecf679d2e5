import * as z from 'zod';
import { defineSchema } from '../define-schema';
import { Timestamp } from './common';

/** `GET /v1/jobs/{id}/metrics` query. */
export const JobMetricsQuery = /* @__PURE__ */ defineSchema(() => z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9_.:/-]{1,64}$/, 'must be a metric name').optional().describe('Only this metric.'),
  max_points: z.coerce.number().int().min(2).max(10_000).default(1000).describe('Points per series at most: longer series are downsampled (LTTB), keeping the first and last. An answer holds 50,000 points at most: when its series together would hold more, each gets an equal share.'),
}));

/** One point of a series: `step` is the line's `step` field, when it had one. */
export const MetricPointBody = /* @__PURE__ */ defineSchema(() => z.object({
  step: z.number().int().nullable(),
  time: Timestamp,
  value: z.number(),
}).meta({ id: 'MetricPoint' }));

/** One metric's series, oldest first, and its last point (never downsampled away). */
export const MetricSeriesBody = /* @__PURE__ */ defineSchema(() => z.object({
  name: z.string(),
  points: z.array(MetricPointBody),
  last: MetricPointBody,
}).meta({ id: 'MetricSeries' }));

export const JobMetricsBody = /* @__PURE__ */ defineSchema(() => z.object({ data: z.array(MetricSeriesBody) }).meta({ id: 'JobMetrics' }));
export type JobMetricsBody = z.infer<typeof JobMetricsBody>;

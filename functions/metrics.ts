import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logger } from './logger';

/**
 * CloudWatch metrics in the Embedded Metric Format (a log line CloudWatch turns into metrics),
 * namespace `suanxiang-cloud`, through Powertools for AWS Lambda's Metrics; one per container.
 */
export const metrics = new Metrics({ namespace: 'suanxiang-cloud', serviceName: 'suanxiang-cloud' });

/** The metrics the service publishes: what an operator watches and alarms on. */
export const METRIC = {
  /** A job handed to the compute backend (counted once per job, when its submission is recorded). */
  jobsSubmitted: { name: 'JobsSubmitted', unit: MetricUnit.Count },
  /** GPU-seconds billed by a settlement, trial and credits together (counted by the ledger's projection consumer). */
  gpuSecondsSettled: { name: 'GpuSecondsSettled', unit: MetricUnit.Count },
  /** A webhook delivery given up: retries exhausted, endpoint gone (410), deleted or disabled. */
  webhookDeliveriesFailed: { name: 'WebhookDeliveriesFailed', unit: MetricUnit.Count },
} as const;

/**
 * Records `value` of a metric and publishes it at once (one EMF line), so nothing is lost when a
 * function ends without a flush. A failure to publish is logged, never thrown: a metric must not
 * fail the work it counts.
 */
export function recordMetric(metric: (typeof METRIC)[keyof typeof METRIC], value = 1): void {
  try {
    metrics.addMetric(metric.name, metric.unit, value);
    metrics.publishStoredMetrics();
  } catch (error) {
    logger.warn('could not publish a metric', { metric: metric.name, error });
  }
}

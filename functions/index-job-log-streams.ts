import type { EventBridgeEvent } from 'aws-lambda';
import { BatchJobStateChange } from '../events/batch-state-change';
import type { Deps } from './deps';
import { lambda } from './lambda';
import { metricStore } from './job-metrics/metric-store';

const JOB_ID = /^job_[0-9a-z]{26}$/;

/**
 * EventBridge target for "Batch Job State Change": records which of our jobs writes each log stream
 * it names (Batch names a stream after its ECS task, so the job log group's subscription cannot
 * tell the job from the stream alone). Events without a stream, or of jobs not ours, are ignored.
 * A failure throws, so EventBridge retries the event.
 */
export const make = (deps: Deps) => async (event: EventBridgeEvent<string, unknown>) => {
  const parsed = BatchJobStateChange.safeParse(event);
  if (!parsed.success || !JOB_ID.test(parsed.data.detail.jobName)) return;
  const { detail } = parsed.data;
  const streams = new Set(
    [detail.container, ...(detail.attempts ?? []).map((a) => a.container)]
      .map((container) => (container as { logStreamName?: unknown } | undefined)?.logStreamName)
      .filter((name): name is string => typeof name === 'string' && name.length > 0),
  );
  const store = metricStore(deps);
  const now = deps.now().getTime();
  for (const stream of streams) await store.linkLogStream(stream, detail.jobName, now);
};

export const handler = lambda(make);

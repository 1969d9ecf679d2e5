import type { BatchJobStateChange } from '../../events/batch-state-change';
import type { Deps } from '../deps';
import { metricStore } from './metric-store';

const JOB_ID = /^job_[0-9a-z]{26}$/;

/**
 * Records which of our jobs writes each log stream a Batch state change names (Batch names a stream
 * after its ECS task, so the job log group's subscription cannot tell the job from the stream alone).
 * Changes without a stream, or of jobs not ours, record nothing. Idempotent.
 * @throws any DynamoDB error (the caller's event is then retried).
 */
export async function indexLogStreams(deps: Deps, detail: BatchJobStateChange['detail']): Promise<void> {
  if (!JOB_ID.test(detail.jobName)) return;
  const streams = new Set(
    [detail.container, ...(detail.attempts ?? []).map((a) => a.container)]
      .map((container) => (container as { logStreamName?: unknown } | undefined)?.logStreamName)
      .filter((name): name is string => typeof name === 'string' && name.length > 0),
  );
  const store = metricStore(deps);
  const now = deps.now().getTime();
  for (const stream of streams) await store.linkLogStream(stream, detail.jobName, now);
}

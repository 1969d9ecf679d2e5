import type { EventBridgeEvent } from 'aws-lambda';
import { BatchJobStateChange } from '../events/batch-state-change';
import type { Deps } from './deps';
import { lambda } from './lambda';
import { observeComputeJob } from './observe-compute';
import { indexLogStreams } from './job-metrics/log-streams';
import { logger } from './logger';

/**
 * EventBridge target for "Batch Job State Change": records the job's progress. Parsed leniently
 * (AWS adds fields); events for jobs that are not ours are ignored; duplicates and late arrivals
 * change nothing (the job decider ignores them). A final state settles the hold in the same write.
 * A failure throws, so EventBridge retries the event (and the reconciler catches what is lost).
 */
export const make = (deps: Deps) => async (event: EventBridgeEvent<string, unknown>) => {
  const parsed = BatchJobStateChange.safeParse(event);
  if (!parsed.success) {
    logger.warn('ignoring an event that is not a Batch job state change', { id: event?.id });
    return;
  }
  await observeComputeJob(deps, parsed.data.detail, { causationId: parsed.data.id, actor: 'aws.batch' });
  // Which job writes which log stream, for the job log group's subscription (job metrics).
  await indexLogStreams(deps, parsed.data.detail);
};

export const handler = lambda(make);

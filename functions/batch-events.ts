import type { EventBridgeEvent } from 'aws-lambda';
import { NotFoundError } from '../domain/errors';
import { BatchJobStateChange } from '../events/batch-state-change';
import type { Deps } from './deps';
import { runJobCommand } from './job-commands';
import { lambda } from './lambda';

const iso = (epochMs: number | undefined) => (epochMs === undefined ? undefined : new Date(epochMs).toISOString());

/**
 * EventBridge target for "Batch Job State Change": records the job's progress. Parsed leniently;
 * events for jobs that are not ours are ignored; duplicates and late arrivals change nothing (the
 * job decider ignores them). A final state settles the hold in the same write.
 */
export const make = (deps: Deps) => async (event: EventBridgeEvent<string, unknown>) => {
  const parsed = BatchJobStateChange.safeParse(event);
  if (!parsed.success) {
    console.warn(JSON.stringify({ level: 'WARN', message: 'Ignoring an event that is not a Batch job state change', id: event?.id }));
    return;
  }
  const { detail } = parsed.data;
  if (!/^job_[0-9a-z]{26}$/.test(detail.jobName)) return;
  const attempt = detail.attempts?.at(-1);
  try {
    await runJobCommand(deps, detail.jobName, (now) => ({
      type: 'ObserveCompute',
      data: {
        status: detail.status,
        batchJobId: detail.jobId,
        startedAt: iso(detail.startedAt ?? attempt?.startedAt),
        stoppedAt: iso(detail.stoppedAt ?? attempt?.stoppedAt),
        exitCode: detail.container?.exitCode ?? attempt?.container?.exitCode ?? null,
        statusReason: detail.statusReason ?? attempt?.statusReason ?? null,
      },
      metadata: { now },
    }), { metadata: { causationId: parsed.data.id, actor: 'aws.batch' } });
  } catch (error) {
    if (error instanceof NotFoundError) return; // a Batch job named like ours, but not in our store
    throw error;
  }
};

export const handler = lambda(make);

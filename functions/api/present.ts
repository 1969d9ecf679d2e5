import { isFinal, runSecondsSoFar, usageOf, type KnownJobState } from '../../domain/job/job';
import type { JobEvent } from '../../events/job-events';
import type { StoredEvent } from '../adapters/event-store';
import { evolveJob, initialJobState } from '../../domain/job/job';
import type { JobFiles } from '../adapters/compute';
import type { JobBody } from '../../events/api/jobs';

/**
 * The public job object (API.md) for a job's state. A running job shows its usage so far at `now`.
 * Extra fields beyond API.md: `held_seconds`, `cancel_requested_at`, `exit_code`, `status_reason`.
 */
export function presentJob(state: KnownJobState, now: Date, files: Pick<JobFiles, 'outputUri'>): JobBody {
  const { job } = state;
  const startedAt = state.status === 'running' || isFinal(state) ? state.startedAt : null;
  const usage = isFinal(state)
    ? state.usage
    : usageOf(job, runSecondsSoFar(state, now.toISOString()));
  return {
    id: job.jobId,
    object: 'job' as const,
    name: job.name,
    status: state.status,
    image: job.image,
    command: job.command,
    gpu_type: job.gpuType,
    gpu_count: job.gpuCount,
    max_runtime_seconds: job.maxRuntimeSeconds,
    held_seconds: job.heldSeconds,
    created_at: job.queuedAt,
    started_at: startedAt,
    finished_at: isFinal(state) ? state.finishedAt : null,
    cancel_requested_at: state.cancelRequestedAt,
    failure_reason: isFinal(state) ? state.failureReason : null,
    exit_code: isFinal(state) ? state.exitCode : null,
    status_reason: isFinal(state) ? state.statusReason : null,
    output_uri: startedAt ? files.outputUri(job.jobId) : null,
    inputs: (job.inputs ?? []).map((i) => (i.kind === 'file' ? { name: i.name, file_id: i.fileId, extract: i.extract } : { name: i.name, job_id: i.jobId })),
    usage: {
      gpu_seconds: usage.gpuSeconds,
      cost: { amount: usage.cost.amount, currency: usage.cost.currency },
      trial_gpu_seconds: usage.trialGpuSeconds,
    },
  };
}

/** Public names of the job events a customer sees; internal bookkeeping events have none. */
const publicType: Partial<Record<JobEvent['type'], string>> = {
  JobQueued: 'job.queued',
  JobStarting: 'job.starting',
  JobRunning: 'job.running',
  JobAttemptFailed: 'job.attempt_failed',
  JobCancelRequested: 'job.cancel_requested',
  JobStopRequested: 'job.stop_requested',
  JobSucceeded: 'job.succeeded',
  JobFailed: 'job.failed',
  JobCancelled: 'job.cancelled',
};

/** A stable public id for a stored event: the same event always has the same id. */
export const publicEventId = (stored: Pick<StoredEvent, 'streamId' | 'version'>) =>
  `evt_${stored.streamId.replace(/^[a-z]+#[a-z]+_/, '')}${String(stored.version).padStart(6, '0')}`;

/** A job's history as public events, oldest first, each with the job as it was right after it. */
export function presentJobEvents(events: Array<{ stored: StoredEvent; event: JobEvent }>, files: Pick<JobFiles, 'outputUri'>) {
  let state = initialJobState();
  const out = [];
  for (const { stored, event } of events) {
    state = evolveJob(state, event);
    const type = publicType[event.type];
    if (!type || state.status === 'none') continue;
    out.push({
      id: publicEventId(stored),
      type,
      created_at: stored.at,
      data: { job: presentJob(state, new Date(stored.at), files) },
    });
  }
  return out;
}

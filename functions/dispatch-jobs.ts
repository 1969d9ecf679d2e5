import type { KnownJobState } from '../domain/job/job';
import type { ComputeJobSpec } from './adapters/compute';
import { load } from './aggregates/aggregate';
import { jobs } from './aggregates/jobs';
import type { Deps } from './deps';
import { runJobCommand } from './job-commands';
import { lambda } from './lambda';
import { METRIC, recordMetric } from './metrics';
import { streamConsumer } from './stream';

export const CANCEL_REASON = 'Cancelled by the customer';

const specOf = ({ job }: KnownJobState): ComputeJobSpec => ({
  jobId: job.jobId,
  accountId: job.accountId,
  image: job.image,
  command: job.command,
  env: job.env,
  gpuType: job.gpuType,
  gpuCount: job.gpuCount,
  // The job is asked to stop when its held time minus the grace is up, so SIGKILL lands at the held time.
  timeoutSeconds: job.heldSeconds - job.graceSeconds,
  graceSeconds: job.graceSeconds,
  ...(job.inputs?.length ? { inputs: job.inputs.map((i) => (i.kind === 'file' ? { name: i.name, kind: i.kind, key: i.key, filename: i.filename, extract: i.extract } : { name: i.name, kind: i.kind, prefix: i.prefix })) } : {}),
});

/**
 * Projection that drives compute: a queued job is submitted (at most once: compute `submit` finds an
 * existing job of the same name), and a cancellation stops it. Every step is safe to repeat.
 */
export const make = (deps: Deps) =>
  streamConsumer('job#', async (stored) => {
    const jobId = stored.streamId.slice('job#'.length);
    switch (stored.type) {
      case 'JobQueued':
        return dispatch(deps, jobId);
      case 'JobCancelRequested':
      case 'JobCancelled':
        return stop(deps, jobId);
      default:
        return;
    }
  });

/** Submits a queued job that has no compute job yet and records it; otherwise nothing. Safe to repeat. */
export async function dispatch(deps: Deps, jobId: string) {
  const { state } = await load(deps.store, jobs, jobId);
  if (state.status !== 'queued' || state.batchJobId !== null) return;
  const { batchJobId } = await deps.compute.submit(specOf(state));
  const after = await runJobCommand(deps, jobId, (now) => ({ type: 'RecordSubmission', data: { batchJobId }, metadata: { now } }));
  recordMetric(METRIC.jobsSubmitted);
  // Cancelled while we were submitting: the compute job must not run.
  if (after.status === 'cancelled') await deps.compute.terminate(batchJobId, CANCEL_REASON);
}

/** Asks the compute side to stop a job with a compute job. Safe to repeat. */
export async function stop(deps: Deps, jobId: string) {
  const { state } = await load(deps.store, jobs, jobId);
  if (state.status === 'none' || state.batchJobId === null) return;
  await deps.compute.terminate(state.batchJobId, CANCEL_REASON);
}

export const handler = lambda(make);

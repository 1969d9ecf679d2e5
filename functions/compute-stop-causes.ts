import type { StopCause } from '../domain/job/decide';

/**
 * The compute side's own words on why it ended a job (AWS Batch's `statusReason`, which the local
 * backend speaks too), and what they mean to the job decider. This module is the only place that
 * reads them: the decider gets a {@link StopCause}, and the service's own stops are facts of the job
 * (`JobStopRequested`), not text carried through Batch.
 */

/** Batch's status reason when an attempt outlives `timeout.attemptDurationSeconds`. */
export const TIMEOUT_REASON = 'Job attempt duration exceeded timeout';
/**
 * The status reason of a job the local stack stopped because it was shutting down (Ctrl-C, SIGTERM):
 * the platform went away, not the customer's code, whatever exit code the SIGTERM produced.
 */
export const PLATFORM_SHUTDOWN_REASON = 'Local stack shutting down';
/**
 * Prefix of the reasons the service gives TerminateJob (`sx:infrastructure`, `sx:insufficient_balance`):
 * for people reading the Batch console, and for the one stop the service cannot record as an event,
 * the node's own when a job's inputs cannot be fetched (infra/cdk/node/sx-job-sync.sh).
 */
export const STOP_REASON_PREFIX = 'sx:';

/** What a compute status reason says about why the job ended, or null when it ended by itself. */
export function stopCauseOf(statusReason: string | null | undefined): StopCause | null {
  const reason = statusReason ?? '';
  if (reason === TIMEOUT_REASON) return 'timeout';
  if (reason.startsWith(STOP_REASON_PREFIX)) {
    const named = reason.slice(STOP_REASON_PREFIX.length);
    if (named === 'infrastructure') return 'infrastructure';
    // Stopped at its held time before the stop was an event of the job: the held time's reason, as a timeout.
    if (named === 'insufficient_balance' || named === 'max_runtime_exceeded') return 'timeout';
    return null;
  }
  if (/^Cannot(Start|Pull|Inspect)Container/.test(reason)) return 'container_start';
  if (reason.startsWith('Host EC2') || reason === PLATFORM_SHUTDOWN_REASON) return 'infrastructure';
  return null;
}

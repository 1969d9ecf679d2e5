import { randomUUID } from 'node:crypto';

import type { BatchJobStateChange, BatchJobStatus } from '../../../events/batch-state-change';
import type { ComputeJobSpec } from '../../../functions/adapters/compute';
import { PLATFORM_SHUTDOWN_REASON, TIMEOUT_REASON } from '../../../functions/compute-stop-causes';

/**
 * Batch event shaping: the "Batch Job State Change" events the local backend sends, in Batch's own
 * shape and wording, so their consumers cannot tell it from Batch.
 */

/** The account and region the local stand-in reports in its events (LocalStack's dummy account). */
export const LOCAL_ACCOUNT = '000000000000';
export const LOCAL_REGION = 'local';
const JOB_QUEUE_ARN = `arn:aws:batch:${LOCAL_REGION}:${LOCAL_ACCOUNT}:job-queue/sx-local-gpu`;

/** Batch's own wording (defined beside the adapter that reads it), so the events cannot tell the local backend from Batch. */
export { TIMEOUT_REASON };
export const SHUTDOWN_REASON = PLATFORM_SHUTDOWN_REASON;
export const EXITED_REASON = 'Essential container in task exited';
export const TOO_BIG_REASON =
  'MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT - job needs more GPUs than the local pool has';

/** The status reason of an attempt lost with its host, in Batch's words (what its retry strategy matches). */
export const hostLostReason = (gpu: number) => `Host EC2 (instance i-local${String(gpu).padStart(13, '0')}) terminated.`;

export type BatchJobDetail = BatchJobStateChange['detail'];

/** An attempt that ended and was retried, as Batch lists it in `attempts`. */
export interface PastAttempt {
  startedAt?: number;
  stoppedAt: number;
  exitCode?: number;
  statusReason: string;
}

/** How a job ended, kept to build its final event. */
export interface JobEnd {
  status: 'SUCCEEDED' | 'FAILED';
  statusReason: string;
  stoppedAt: number;
  exitCode?: number;
  containerReason?: string;
  /** Whether a start was tried: Batch lists an attempt only then. */
  attempted: boolean;
}

/** What the `detail` of an event is built from. */
export interface JobFacts {
  readonly spec: ComputeJobSpec;
  readonly batchJobId: string;
  readonly jobArn: string;
  readonly createdAt: number;
  readonly status: BatchJobStatus;
  readonly startedAt?: number;
  readonly pastAttempts: readonly PastAttempt[];
  readonly end?: JobEnd;
  /** Whether the current attempt has a process (it then has a log stream). */
  readonly hasProcess: boolean;
}

/** The ARN Batch would give the job. */
export function localJobArn(batchJobId: string): string {
  return `arn:aws:batch:${LOCAL_REGION}:${LOCAL_ACCOUNT}:job/${batchJobId}`;
}

/** The event `detail` for the job's current state, shaped like Batch's. */
export function batchJobDetail(job: JobFacts): BatchJobDetail {
  const { spec, end } = job;
  const logStreamName = `sx-local/default/${job.batchJobId}`;
  const past = job.pastAttempts.map((attempt) =>
    withoutUndefined({
      container: withoutUndefined({ exitCode: attempt.exitCode, logStreamName }),
      startedAt: attempt.startedAt,
      stoppedAt: attempt.stoppedAt,
      statusReason: attempt.statusReason,
    }),
  );
  const attempts = end?.attempted
    ? [
        ...past,
        withoutUndefined({
          container: withoutUndefined({
            exitCode: end.exitCode,
            reason: end.containerReason,
            logStreamName,
          }),
          startedAt: job.startedAt,
          stoppedAt: end.stoppedAt,
          statusReason: end.statusReason,
        }),
      ]
    : past;
  return withoutUndefined({
    jobName: spec.jobId,
    jobId: job.batchJobId,
    jobArn: job.jobArn,
    jobQueue: JOB_QUEUE_ARN,
    status: job.status,
    statusReason: end?.statusReason,
    createdAt: job.createdAt,
    startedAt: job.startedAt,
    stoppedAt: end?.stoppedAt,
    attempts,
    container: withoutUndefined({
      image: spec.image,
      exitCode: end?.exitCode,
      reason: end?.containerReason,
      logStreamName: job.hasProcess || end?.attempted ? logStreamName : undefined,
    }),
    tags: { 'sx:job-id': spec.jobId, 'sx:account-id': spec.accountId },
  });
}

/** The EventBridge envelope around a `detail`, as Batch sends it; the detail is copied, so a consumer that mutates its event changes nothing here. */
export function batchStateChange(detail: BatchJobDetail, jobArn: string, time: number): BatchJobStateChange {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Batch Job State Change',
    source: 'aws.batch',
    account: LOCAL_ACCOUNT,
    time: new Date(time).toISOString(),
    region: LOCAL_REGION,
    resources: [jobArn],
    detail: structuredClone(detail),
  };
}

/** Drops keys whose value is undefined, so events carry no `"key": undefined` noise. */
function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as T;
}

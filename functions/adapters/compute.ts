import type { BatchJobStateChange, BatchJobStatus } from '../../events/batch-state-change';
import type { GpuType } from '../../events/values';

/** What the compute backend needs to run one job. */
export interface ComputeJobSpec {
  jobId: string;
  accountId: string;
  image: string;
  command: string[];
  env: Record<string, string>;
  gpuType: GpuType;
  gpuCount: number;
  /**
   * Seconds one attempt may run before the compute side itself sends SIGTERM (held seconds minus
   * grace): the backstop that holds even when the control plane is down.
   */
  timeoutSeconds: number;
  /** Seconds between SIGTERM and SIGKILL. */
  graceSeconds: number;
  /** What the job reads, fetched onto the node before it runs (so not billed), read-only under `$SX_INPUT_DIR/<name>/`. */
  inputs?: ComputeInput[];
}

/** One input of a job, resolved to where its bytes are in the bucket. */
export type ComputeInput =
  /** A file: `<name>/<filename>`, or unpacked into `<name>/` when `extract` (.tar, .tar.gz, .tgz, .zip). */
  | { name: string; kind: 'file'; key: string; filename: string; extract: boolean }
  /** An earlier job's whole output directory, from under `prefix`. */
  | { name: string; kind: 'job'; prefix: string };

/** Where a job's output directory is kept in the bucket (also what another job reads it from as an input). */
export const outputPrefix = (jobId: string) => `outputs/${jobId}/`;
/** Where a job's checkpoint directory is kept in the bucket, as last saved. */
export const checkpointPrefix = (jobId: string) => `checkpoints/${jobId}/`;

/**
 * Where the node reports, per attempt (`<attempt>.json`), when the job's command really started and
 * ended in AWS: the span billed, without the inputs' download before it or the outputs' save after it.
 */
export const runPrefix = (jobId: string) => `runs/${jobId}/`;

/** The `detail` of a "Batch Job State Change" event: the same shape as a `DescribeJobs` entry. */
export type ComputeJobDetail = BatchJobStateChange['detail'];

/** One compute job as `describe` reports it, like an entry of Batch `DescribeJobs`. */
export interface DescribedJob {
  batchJobId: string;
  status: BatchJobStatus;
  /** What a state-change event for the job's current state would carry. */
  detail: ComputeJobDetail;
}

/**
 * Attempts a job gets in all: the first plus up to 3 retries, taken only after the host was lost
 * (a Spot reclaim: status reason `Host EC2…`). Any other end of an attempt ends the job.
 */
export const COMPUTE_ATTEMPTS = 4;

/** The most ids one `describe` call takes (Batch `DescribeJobs`' limit); callers chunk. */
export const DESCRIBE_BATCH_SIZE = 100;

/** Where a job's output is kept in AWS: `s3://<bucket>/outputs/<job id>/` (the job's `SX_OUTPUT_URI`). */
export const s3OutputUri = (bucket: string, jobId: string) => `s3://${bucket}/${outputPrefix(jobId)}`;

/**
 * The compute port: AWS Batch in AWS, a host-process backend locally. Both report progress as
 * EventBridge "Batch Job State Change" events (see `events/batch-state-change.ts`). One contract
 * suite (`test/support/compute-contract.ts`) holds both to the behaviour they share.
 */
export interface Compute {
  /**
   * Submits the job, unless a compute job named after `jobId` already exists, in which case that
   * job's id is returned: calling this twice never runs a job twice.
   * @throws on a compute-side failure (the caller's stream record is retried).
   */
  submit(spec: ComputeJobSpec): Promise<{ batchJobId: string }>;
  /**
   * Stops a job: SIGTERM, then SIGKILL after its grace period; a job still waiting is removed. Its
   * final event carries `reason` as its status reason. A finished or unknown job is a no-op.
   */
  terminate(batchJobId: string, reason: string): Promise<void>;
  /**
   * The current state of each known job, in the order asked, at most {@link DESCRIBE_BATCH_SIZE}
   * ids. Unknown ids (never submitted, or expired from Batch's history) are left out.
   */
  describe(batchJobIds: string[]): Promise<DescribedJob[]>;
}

/** Where a job's output and logs are read from. */
export interface JobFiles {
  /** The job's combined stdout and stderr so far ('' before it starts). */
  readLogs(jobId: string): Promise<string>;
  /** Where the job's output directory is kept, e.g. `s3://bucket/outputs/job_…/` or a `file://` URL. */
  outputUri(jobId: string): string;
}

/** A pool of GPU machines whose size the service steers (a Batch compute environment, or the local pool). */
export interface CapacityPool {
  /** The compute environment's name. */
  name: string;
  /** Which jobs it serves: Spot takes single-node jobs only; on-demand takes the rest (and single-node ones when there is no Spot pool). */
  market: 'spot' | 'on-demand';
  minvCpus: number;
  maxvCpus: number;
  desiredvCpus: number;
}

/** The capacity port: read and steer the pools' minimum and desired size. */
export interface Capacity {
  /** The pools and their current sizes. */
  pools(): Promise<CapacityPool[]>;
  /**
   * Sets a pool's minimum vCPUs and, when given, raises its desired vCPUs (Batch never lowers a
   * desired count on request; lowering the minimum lets it scale down on its own). Safe to repeat.
   */
  resize(name: string, target: { minvCpus: number; desiredvCpus?: number }): Promise<void>;
}

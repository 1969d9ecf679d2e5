import type { GpuType } from '../../events/values';

/** What the compute backend needs to run one job attempt. */
export interface ComputeJobSpec {
  jobId: string;
  accountId: string;
  image: string;
  command: string[];
  env: Record<string, string>;
  gpuType: GpuType;
  gpuCount: number;
  /** Seconds the job may run before it is sent SIGTERM (held seconds minus grace). */
  timeoutSeconds: number;
  /** Seconds between SIGTERM and SIGKILL. */
  graceSeconds: number;
}

/**
 * The compute port: AWS Batch in AWS, a host-process backend locally. Both report progress as
 * EventBridge "Batch Job State Change" events (see `events/batch-state-change.ts`).
 */
export interface Compute {
  /**
   * Submits the job, unless a compute job named after `jobId` already exists, in which case that
   * job's id is returned: calling this twice never runs a job twice.
   */
  submit(spec: ComputeJobSpec): Promise<{ batchJobId: string }>;
  /** Stops a job: SIGTERM, then SIGKILL after its grace period. A finished or unknown job is a no-op. */
  terminate(batchJobId: string, reason: string): Promise<void>;
}

/** Where a job's output and logs are read from. */
export interface JobFiles {
  /** The job's combined stdout and stderr so far ('' before it starts). */
  readLogs(jobId: string): Promise<string>;
  /** Where the job's output directory is kept, e.g. `s3://bucket/outputs/job_…/` or a `file://` URL. */
  outputUri(jobId: string): string;
}

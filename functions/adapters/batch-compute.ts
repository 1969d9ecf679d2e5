import { createHash } from 'node:crypto';
import {
  DescribeComputeEnvironmentsCommand,
  DescribeJobDefinitionsCommand,
  DescribeJobsCommand,
  ListJobsCommand,
  RegisterJobDefinitionCommand,
  SubmitJobCommand,
  TerminateJobCommand,
  UpdateComputeEnvironmentCommand,
  type BatchClient,
  type JobDefinition,
  type JobDetail,
  type KeyValuePair,
  type SubmitJobCommandInput,
} from '@aws-sdk/client-batch';
import { BatchJobStatus } from '../../events/batch-state-change';
import type { Capacity, CapacityPool, Compute, ComputeInput, ComputeJobDetail, ComputeJobSpec, DescribedJob } from './compute';
import {
  ALL_NODES,
  BATCH_MIN_TIMEOUT_SECONDS,
  CONTAINER_CHECKPOINT_DIR,
  CONTAINER_INPUT_DIR,
  CONTAINER_ENTRYPOINT,
  CONTAINER_OUTPUT_DIR,
  deriveForImage,
  GPUS_PER_NODE,
  resourcesFor,
  RETRY_STRATEGY,
} from './batch-job-definitions';
import { DESCRIBE_BATCH_SIZE, runPrefix } from './compute';
import { RateLimiter, realTiming, withBackoff, type BackoffOptions, type Timing } from './rate-limit';

/** Where things are in one region's deployment (from `functions/env.ts`). */
export interface BatchComputeConfig {
  /** On-demand job queue: multi-node jobs always, single-node ones when there is no Spot queue. */
  onDemandQueue: string;
  /** Spot job queue for single-node jobs; '' to run everything on demand. */
  spotQueue: string;
  /** Template job definitions (name, name:revision or ARN); one revision per image is derived from them. */
  singleNodeJobDefinition: string;
  multiNodeJobDefinition: string;
  /** S3 bucket of outputs (`outputs/<job>/`) and checkpoints (`checkpoints/<job>/`). */
  bucket: string;
  /** The project's compute environments (names or ARNs): the only ones `pools` reports and `resize` touches. */
  computeEnvironments?: string[];
  /** Calls a second this adapter makes to Batch (Batch allows 50 a second per account and region). @default 10 */
  ratePerSecond?: number;
  backoff?: BackoffOptions;
  timing?: Timing;
}

const isThrottle = (error: unknown) => {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number }; $retryable?: { throttling?: boolean } };
  return e?.name === 'TooManyRequestsException' || e?.$metadata?.httpStatusCode === 429 || e?.$retryable?.throttling === true;
};
const isRetryable = (error: unknown) =>
  isThrottle(error) || (error as { name?: string })?.name === 'ServerException' || ((error as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode ?? 0) >= 500;

/**
 * AWS Batch behind the {@link Compute} and {@link Capacity} ports. Every call goes through one
 * token bucket (`ratePerSecond`, well under Batch's 50 TPS, since several functions share it) and is
 * retried with jittered backoff on `TooManyRequestsException` and 5xx. Give it a client with
 * `maxAttempts: 1`, so the SDK's own retries do not multiply these.
 */
export class BatchCompute implements Compute, Capacity {
  private readonly limiter: RateLimiter;
  private readonly timing: Timing;
  /** Derived job definition ARNs by template × image, for this container's life. */
  private readonly definitions = new Map<string, Promise<string>>();

  constructor(
    private readonly batch: BatchClient,
    private readonly config: BatchComputeConfig,
  ) {
    this.timing = config.timing ?? realTiming;
    const rate = config.ratePerSecond ?? 10;
    this.limiter = new RateLimiter(rate, rate, this.timing);
  }

  /**
   * Submits the job to Batch unless a Batch job named after it already exists on its queue (a
   * redelivered `JobQueued`, or a crash between SubmitJob and recording it), in which case that
   * job's id is returned. Single-node jobs (1–8 GPUs) go to the Spot queue when there is one;
   * multi-node jobs (16–64 GPUs) to the on-demand queue, as Batch runs no multi-node job on Spot.
   * @throws the Batch error after retries (the stream record is retried), or Error for a GPU
   *   count that is neither 1–8 nor a multiple of 8.
   */
  async submit(spec: ComputeJobSpec): Promise<{ batchJobId: string }> {
    const multiNode = spec.gpuCount > GPUS_PER_NODE;
    if (multiNode && spec.gpuCount % GPUS_PER_NODE !== 0) {
      throw new Error(`A ${spec.gpuCount}-GPU job cannot run: above ${GPUS_PER_NODE} GPUs a job takes whole nodes`);
    }
    const jobQueue = !multiNode && this.config.spotQueue ? this.config.spotQueue : this.config.onDemandQueue;
    const existing = await this.findByName(jobQueue, spec.jobId);
    if (existing) return { batchJobId: existing };
    const jobDefinition = await this.jobDefinitionFor(multiNode ? this.config.multiNodeJobDefinition : this.config.singleNodeJobDefinition, spec.image);
    const input = submitJobInput(spec, { jobQueue, jobDefinition, bucket: this.config.bucket });
    const out = await this.call(() => this.batch.send(new SubmitJobCommand(input)));
    return { batchJobId: out.jobId! };
  }

  /**
   * `TerminateJob`: a running job gets SIGTERM, then SIGKILL after the container's stop timeout; a
   * waiting one is removed. (`CancelJob` would answer 200 and leave a running job running.)
   * Terminating a finished job changes nothing in Batch.
   */
  async terminate(batchJobId: string, reason: string): Promise<void> {
    await this.call(() => this.batch.send(new TerminateJobCommand({ jobId: batchJobId, reason })));
  }

  /** `DescribeJobs` in calls of at most 100 ids, mapped to state-change `detail`s. */
  async describe(batchJobIds: string[]): Promise<DescribedJob[]> {
    const found = new Map<string, DescribedJob>();
    for (let i = 0; i < batchJobIds.length; i += DESCRIBE_BATCH_SIZE) {
      const jobs = batchJobIds.slice(i, i + DESCRIBE_BATCH_SIZE);
      const out = await this.call(() => this.batch.send(new DescribeJobsCommand({ jobs })));
      for (const job of out.jobs ?? []) {
        const detail = detailOf(job);
        if (detail) found.set(detail.jobId, { batchJobId: detail.jobId, status: detail.status, detail });
      }
    }
    return batchJobIds.flatMap((id) => (found.has(id) ? [found.get(id)!] : []));
  }

  /** The compute environments behind the job queues, with their sizes. */
  async pools(): Promise<CapacityPool[]> {
    // Only ours: an account may run other Batch workloads whose capacity is not ours to change.
    const computeEnvironments = this.config.computeEnvironments ?? [];
    if (computeEnvironments.length === 0) return [];
    const out = await this.call(() => this.batch.send(new DescribeComputeEnvironmentsCommand({ computeEnvironments })));
    return (out.computeEnvironments ?? [])
      .filter((ce) => ce.computeResources && ce.state === 'ENABLED')
      .map((ce) => ({
        name: ce.computeEnvironmentName!,
        market: ce.computeResources!.type === 'SPOT' ? ('spot' as const) : ('on-demand' as const),
        minvCpus: ce.computeResources!.minvCpus ?? 0,
        maxvCpus: ce.computeResources!.maxvCpus ?? 0,
        desiredvCpus: ce.computeResources!.desiredvCpus ?? 0,
      }));
  }

  /** `UpdateComputeEnvironment` with the new minimum (and desired, when raised). */
  async resize(name: string, target: { minvCpus: number; desiredvCpus?: number }): Promise<void> {
    const computeResources = { minvCpus: target.minvCpus, ...(target.desiredvCpus !== undefined ? { desiredvCpus: target.desiredvCpus } : {}) };
    await this.call(() => this.batch.send(new UpdateComputeEnvironmentCommand({ computeEnvironment: name, computeResources })));
  }

  private async findByName(jobQueue: string, jobName: string): Promise<string | undefined> {
    // With a filter, ListJobs returns jobs in every status, newest first; the name filter is a
    // case-insensitive prefix match only when it ends in '*', so this is an exact-name lookup.
    const out = await this.call(() =>
      this.batch.send(new ListJobsCommand({ jobQueue, filters: [{ name: 'JOB_NAME', values: [jobName] }] })),
    );
    return out.jobSummaryList?.find((job) => job.jobName === jobName)?.jobId;
  }

  /**
   * Batch cannot override a job's image at submission, so each image gets its own revision of a
   * template job definition, named after the template and a hash of both (found again by name).
   */
  private jobDefinitionFor(template: string, image: string): Promise<string> {
    const key = `${template}\n${image}`;
    let pending = this.definitions.get(key);
    if (!pending) {
      pending = this.deriveJobDefinition(template, image);
      pending.catch(() => this.definitions.delete(key));
      this.definitions.set(key, pending);
    }
    return pending;
  }

  private async deriveJobDefinition(template: string, image: string): Promise<string> {
    const base = await this.latestDefinition(template);
    const name = `${base.jobDefinitionName}-${createHash('sha256').update(`${base.jobDefinitionArn}\n${image}`).digest('hex').slice(0, 16)}`;
    const existing = await this.call(() => this.batch.send(new DescribeJobDefinitionsCommand({ jobDefinitionName: name, status: 'ACTIVE' })));
    const found = newest(existing.jobDefinitions ?? []);
    if (found) return found.jobDefinitionArn!;
    const registered = await this.call(() => this.batch.send(new RegisterJobDefinitionCommand(deriveForImage(base, name, image))));
    return registered.jobDefinitionArn!;
  }

  private async latestDefinition(template: string): Promise<JobDefinition> {
    // A name means its newest active revision; `name:revision` or an ARN means exactly that one.
    const out = await this.call(() =>
      this.batch.send(new DescribeJobDefinitionsCommand(template.includes(':') ? { jobDefinitions: [template] } : { jobDefinitionName: template, status: 'ACTIVE' })),
    );
    const found = newest(out.jobDefinitions ?? []);
    if (!found) throw new Error(`Batch job definition ${template} not found: check SX_JOB_DEFINITION_* and the stack`);
    return found;
  }

  private async call<T>(send: () => Promise<T>): Promise<T> {
    return withBackoff(
      async () => {
        await this.limiter.take();
        return send();
      },
      isRetryable,
      this.config.backoff,
      this.timing,
    );
  }
}

const newest = (definitions: JobDefinition[]) =>
  definitions.filter((d) => d.status !== 'INACTIVE').sort((a, b) => (b.revision ?? 0) - (a.revision ?? 0))[0];

/** The exact `SubmitJob` request for a job (exported for the tests and the design notes). */
export function submitJobInput(spec: ComputeJobSpec, where: { jobQueue: string; jobDefinition: string; bucket: string }): SubmitJobCommandInput {
  const multiNode = spec.gpuCount > GPUS_PER_NODE;
  const gpusPerNode = multiNode ? GPUS_PER_NODE : spec.gpuCount;
  const environment: KeyValuePair[] = [
    ...Object.entries(spec.env).map(([name, value]) => ({ name, value })),
    { name: 'SX_JOB_ID', value: spec.jobId },
    { name: 'SX_OUTPUT_DIR', value: CONTAINER_OUTPUT_DIR },
    { name: 'SX_CHECKPOINT_DIR', value: CONTAINER_CHECKPOINT_DIR },
    { name: 'SX_INPUT_DIR', value: CONTAINER_INPUT_DIR },
    // Where the job definition's entrypoint syncs those directories, so a retried attempt resumes.
    { name: 'SX_OUTPUT_URI', value: `s3://${where.bucket}/outputs/${spec.jobId}/` },
    { name: 'SX_CHECKPOINT_URI', value: `s3://${where.bucket}/checkpoints/${spec.jobId}/` },
    // Where the node reports when the command really started and ended: what is billed (functions/command-runs.ts).
    { name: 'SX_RUN_URI', value: `s3://${where.bucket}/${runPrefix(spec.jobId)}` },
    { name: 'SX_GPU_COUNT', value: String(spec.gpuCount) },
    { name: 'SX_STOP_GRACE_SECONDS', value: String(spec.graceSeconds) },
    // What the node's sx-job-sync fetches into SX_INPUT_DIR before the command starts.
    ...(spec.inputs?.length ? [{ name: 'SX_INPUTS', value: inputsVariable(spec.inputs, where.bucket) }] : []),
  ];
  const container = { command: [CONTAINER_ENTRYPOINT, ...spec.command], environment, resourceRequirements: resourcesFor(gpusPerNode) };
  return {
    jobName: spec.jobId,
    jobQueue: where.jobQueue,
    jobDefinition: where.jobDefinition,
    ...(multiNode
      ? { nodeOverrides: { numNodes: spec.gpuCount / GPUS_PER_NODE, nodePropertyOverrides: [{ targetNodes: ALL_NODES, containerOverrides: container }] } }
      : { containerOverrides: container }),
    // The backstop: Batch itself stops an attempt at held − grace (SIGTERM; SIGKILL after the
    // instance's ECS stop timeout, set to the grace). Batch refuses less than 60 s.
    timeout: { attemptDurationSeconds: Math.max(BATCH_MIN_TIMEOUT_SECONDS, spec.timeoutSeconds) },
    retryStrategy: RETRY_STRATEGY,
    tags: { 'sx:job-id': spec.jobId, 'sx:account-id': spec.accountId },
    propagateTags: true,
  };
}

/**
 * A job's inputs for the node (`SX_INPUTS`): one line per input, `name TAB kind TAB s3-uri TAB filename
 * TAB extract` (a job input: its output prefix, no filename, extract 0), base64 so that no file name
 * can break the line format or the environment. Decoded by infra/cdk/node/sx-job-sync.sh.
 */
export function inputsVariable(inputs: ComputeInput[], bucket: string): string {
  const lines = inputs.map((i) =>
    i.kind === 'file' ? [i.name, 'file', `s3://${bucket}/${i.key}`, i.filename, i.extract ? '1' : '0'] : [i.name, 'job', `s3://${bucket}/${i.prefix}`, '', '0'],
  );
  return Buffer.from(lines.map((l) => `${l.join('\t')}\n`).join('')).toString('base64');
}

/** A `DescribeJobs` entry as the `detail` of a state-change event (the same fields, by design). */
export function detailOf(job: JobDetail): ComputeJobDetail | null {
  const status = BatchJobStatus.safeParse(job.status);
  if (!status.success || !job.jobId || !job.jobName) return null;
  const attempts = (job.attempts ?? []).map((a) =>
    clean({
      container: clean({ exitCode: a.container?.exitCode, reason: a.container?.reason, logStreamName: a.container?.logStreamName }),
      startedAt: a.startedAt,
      stoppedAt: a.stoppedAt,
      statusReason: a.statusReason,
    }),
  );
  return clean({
    jobName: job.jobName,
    jobId: job.jobId,
    jobArn: job.jobArn,
    jobQueue: job.jobQueue,
    status: status.data,
    statusReason: job.statusReason,
    createdAt: job.createdAt,
    startedAt: job.startedAt,
    stoppedAt: job.stoppedAt,
    attempts,
    container: job.container
      ? clean({ image: job.container.image, exitCode: job.container.exitCode, reason: job.container.reason, logStreamName: job.container.logStreamName })
      : undefined,
    tags: job.tags,
  }) as ComputeJobDetail;
}

function clean<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

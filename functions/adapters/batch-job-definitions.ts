import type { JobDefinition, RegisterJobDefinitionCommandInput, ResourceRequirement, RetryStrategy } from '@aws-sdk/client-batch';
import { COMPUTE_ATTEMPTS } from './compute';

/**
 * The one description of a Batch job: the node it runs on, its retries and its container. The CDK
 * stack registers the two template job definitions from {@link jobDefinitionTemplates}; the Batch
 * adapter derives a revision per image from what Batch has registered and sends {@link resourcesFor}
 * and {@link RETRY_STRATEGY} at `SubmitJob`. Nothing about a job's shape is said anywhere else.
 */

/** The one instance type jobs run on: 8 × A100 40 GB, 96 vCPUs, 1152 GiB, 4 EFA network cards. */
export const INSTANCE_TYPE = 'p4d.24xlarge';
/** GPUs of one node: jobs above this run multi-node parallel, 8 GPUs a node. */
export const GPUS_PER_NODE = 8;
/** vCPUs of one node (96), shared evenly by its GPUs. */
export const VCPUS_PER_NODE = 96;
export const VCPUS_PER_GPU = VCPUS_PER_NODE / GPUS_PER_NODE;
/**
 * Memory a job may use on a whole node, in MiB: 1152 GiB less room for the OS, the ECS agent and
 * Docker (ECS registers less than the instance's nominal memory, and a job asking for more than it
 * registered never starts). A job gets this in proportion to its GPUs, so smaller jobs pack onto a node.
 */
export const MEMORY_MIB_PER_NODE = 1_100_000;
export const MEMORY_MIB_PER_GPU = MEMORY_MIB_PER_NODE / GPUS_PER_NODE;
/** EFA interfaces of a p4d.24xlarge (one per network card). */
export const EFA_INTERFACES_PER_NODE = 4;
/** The API accepts up to 64 GPUs (8 nodes) in one multi-node job (API.md). */
export const MAX_NODES_PER_JOB = 8;
/**
 * The node range of the multi-node definition and of every `SubmitJob` override: open-ended, since
 * Batch takes a `numNodes` override only when a range of the definition has an open upper bound,
 * its lower bound and the main node both below the overriding count.
 */
export const ALL_NODES = '0:';

/** Batch refuses an `attemptDurationSeconds` below this. */
export const BATCH_MIN_TIMEOUT_SECONDS = 60;
/**
 * A safety maximum on every attempt, in seconds: the longest `max_runtime_seconds` API.md allows
 * (14 days) plus 10 minutes of grace. Each job's real timeout (its held time) is set at SubmitJob.
 */
export const MAX_ATTEMPT_SECONDS = 1_209_600 + 600;

/** Where the job's container finds its directories (the job definition mounts them; see docs/compute.md). */
export const CONTAINER_OUTPUT_DIR = '/sx/output';
export const CONTAINER_CHECKPOINT_DIR = '/sx/checkpoints';
/** Where the job reads its inputs: the node fetches them there before the command starts; read-only in the container. */
export const CONTAINER_INPUT_DIR = '/sx/input';
/**
 * The first word of every job's command: mounted from the node (infra/cdk/node/sx-entry.sh), it
 * waits until the node has restored the job's checkpoint directory from S3, then runs the job's
 * own command in its place. (Batch has no entrypoint override; the command is all there is.)
 */
export const CONTAINER_ENTRYPOINT = '/sx/bin/sx-entry';
/** Where the node software lives on the host; `bin/` is mounted read-only into every job at `/sx/bin`. */
export const NODE_SX_DIR = '/opt/sx';

/**
 * Retry a Spot reclaim or a lost host (`Host EC2 (instance i-…) terminated.`) from the job's
 * checkpoint, up to {@link COMPUTE_ATTEMPTS} attempts in all; anything else ends the job.
 */
export const RETRY_STRATEGY = {
  attempts: COMPUTE_ATTEMPTS,
  evaluateOnExit: [
    { onStatusReason: 'Host EC2*', action: 'RETRY' as const },
    { onReason: '*', action: 'EXIT' as const },
  ],
} satisfies RetryStrategy;

/** Batch resource requirements for `gpus` GPUs on one node: vCPUs and memory in proportion. */
export function resourcesFor(gpus: number): ResourceRequirement[] {
  return [
    { type: 'GPU', value: String(gpus) },
    { type: 'VCPU', value: String(gpus * VCPUS_PER_GPU) },
    { type: 'MEMORY', value: String(Math.floor(gpus * MEMORY_MIB_PER_GPU)) },
  ];
}

/** A job definition as `RegisterJobDefinition` takes it, less its name. */
export type JobDefinitionInput = Omit<RegisterJobDefinitionCommandInput, 'jobDefinitionName'>;

/** What the two templates need from the deployment. */
export interface TemplateSettings {
  /** The CloudWatch Logs group job containers log to (read back by `GET /v1/jobs/{id}/logs`). */
  logGroup: string;
  region: string;
  /** A placeholder: every job brings its own image (a revision per image is derived from the template). */
  image: string;
  /** Whether multi-node containers get the node's EFA devices (not in the China regions, where Batch has no EFA). */
  efa: boolean;
}

/**
 * The single-node and multi-node parallel template job definitions. Their directories are
 * task-scoped Docker volumes (no host path: no job sees another's, even on a shared node), which
 * the node's sx-job-sync fills and saves; sx-entry comes from the host, read-only, so it need not
 * be in the customer's image. Multi-node containers get the node's EFA devices where there is EFA.
 */
export function jobDefinitionTemplates(settings: TemplateSettings): { singleNode: JobDefinitionInput; multiNode: JobDefinitionInput } {
  const logConfiguration = {
    logDriver: 'awslogs' as const,
    options: { 'awslogs-group': settings.logGroup, 'awslogs-region': settings.region, 'awslogs-stream-prefix': 'job' },
  };
  const volumes = [{ name: 'sx-checkpoints' }, { name: 'sx-output' }, { name: 'sx-input' }, { name: 'sx-bin', host: { sourcePath: `${NODE_SX_DIR}/bin` } }];
  const mountPoints = [
    // Filled by the node (which writes the volume on the host), read-only to the job.
    { sourceVolume: 'sx-input', containerPath: CONTAINER_INPUT_DIR, readOnly: true },
    { sourceVolume: 'sx-checkpoints', containerPath: CONTAINER_CHECKPOINT_DIR, readOnly: false },
    { sourceVolume: 'sx-output', containerPath: CONTAINER_OUTPUT_DIR, readOnly: false },
    { sourceVolume: 'sx-bin', containerPath: CONTAINER_ENTRYPOINT.slice(0, CONTAINER_ENTRYPOINT.lastIndexOf('/')), readOnly: true },
  ];
  const common = {
    platformCapabilities: ['EC2' as const],
    propagateTags: true,
    timeout: { attemptDurationSeconds: MAX_ATTEMPT_SECONDS },
    retryStrategy: RETRY_STRATEGY,
  };
  const container = {
    image: settings.image,
    command: ['true'],
    logConfiguration,
    ulimits: [{ name: 'memlock', softLimit: -1, hardLimit: -1 }],
    privileged: false,
    readonlyRootFilesystem: false,
    volumes,
    mountPoints,
  };
  const efaDevices = Array.from({ length: EFA_INTERFACES_PER_NODE }, (_, i) => ({
    hostPath: `/dev/infiniband/uverbs${i}`,
    containerPath: `/dev/infiniband/uverbs${i}`,
    permissions: ['READ' as const, 'WRITE' as const, 'MKNOD' as const],
  }));
  return {
    singleNode: {
      type: 'container',
      ...common,
      containerProperties: { ...container, resourceRequirements: resourcesFor(1), linuxParameters: { sharedMemorySize: 65_536, initProcessEnabled: true } },
    },
    multiNode: {
      type: 'multinode',
      ...common,
      nodeProperties: {
        // 2 to 8 whole nodes (16–64 GPUs); SubmitJob sets numNodes per job with nodeOverrides.
        numNodes: 2,
        mainNode: 0,
        nodeRangeProperties: [
          {
            targetNodes: ALL_NODES,
            container: {
              ...container,
              resourceRequirements: resourcesFor(GPUS_PER_NODE),
              linuxParameters: { ...(settings.efa ? { devices: efaDevices } : {}), sharedMemorySize: 65_536, initProcessEnabled: true },
              environment: settings.efa
                ? [
                    { name: 'FI_PROVIDER', value: 'efa' },
                    { name: 'NCCL_PROTO', value: 'simple' },
                  ]
                : [],
            },
          },
        ],
      },
    },
  };
}

/** What `DescribeJobDefinitions` reports that `RegisterJobDefinition` does not take. */
const DESCRIBED_ONLY = ['jobDefinitionArn', 'revision', 'status', 'containerOrchestrationType'] as const;

/**
 * The revision of a registered template for another image: every property the template has (so a
 * property added to the template is carried along, not dropped), its image replaced, and its tags
 * less those Batch refuses to take (`aws:`, which CloudFormation puts on what it creates).
 */
export function deriveForImage(template: JobDefinition, name: string, image: string): RegisterJobDefinitionCommandInput {
  const rest: Record<string, unknown> = { ...template };
  for (const key of DESCRIBED_ONLY) delete rest[key];
  const properties = rest as Omit<JobDefinition, (typeof DESCRIBED_ONLY)[number]>;
  const tags = Object.fromEntries(Object.entries(template.tags ?? {}).filter(([key]) => !key.toLowerCase().startsWith('aws:')));
  return {
    ...properties,
    jobDefinitionName: name,
    type: template.type as RegisterJobDefinitionCommandInput['type'],
    tags: { ...tags, 'sx:template': template.jobDefinitionArn! },
    ...(template.containerProperties ? { containerProperties: { ...template.containerProperties, image } } : {}),
    ...(template.nodeProperties
      ? {
          nodeProperties: {
            ...template.nodeProperties,
            nodeRangeProperties: (template.nodeProperties.nodeRangeProperties ?? []).map((range) => ({ ...range, container: { ...range.container, image } })),
          },
        }
      : {}),
  };
}

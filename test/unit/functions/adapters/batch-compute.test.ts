import {
  BatchClient,
  DescribeComputeEnvironmentsCommand,
  DescribeJobDefinitionsCommand,
  DescribeJobsCommand,
  ListJobsCommand,
  RegisterJobDefinitionCommand,
  SubmitJobCommand,
  TerminateJobCommand,
  UpdateComputeEnvironmentCommand,
} from '@aws-sdk/client-batch';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { BatchCompute, type BatchComputeConfig } from '../../../../functions/adapters/batch-compute';
import type { ComputeJobSpec } from '../../../../functions/adapters/compute';
import type { Timing } from '../../../../functions/adapters/rate-limit';

const batchMock = mockClient(BatchClient);
/** Job definitions already registered in the account, by name (what DescribeJobDefinitions finds). */
const derived = new Map<string, unknown[]>();
const CONFIG: BatchComputeConfig = {
  onDemandQueue: 'sx-gpu-on-demand',
  spotQueue: 'sx-gpu-spot',
  singleNodeJobDefinition: 'sx-single-node',
  multiNodeJobDefinition: 'sx-multi-node',
  bucket: 'sx-outputs-123',
};
const TEMPLATE_SINGLE = {
  jobDefinitionName: 'sx-single-node',
  jobDefinitionArn: 'arn:aws:batch:us-east-1:123:job-definition/sx-single-node:3',
  revision: 3,
  status: 'ACTIVE',
  type: 'container',
  containerProperties: { image: 'placeholder', jobRoleArn: 'arn:aws:iam::123:role/job' },
  platformCapabilities: ['EC2'],
};
const TEMPLATE_MULTI = {
  jobDefinitionName: 'sx-multi-node',
  jobDefinitionArn: 'arn:aws:batch:us-east-1:123:job-definition/sx-multi-node:2',
  revision: 2,
  status: 'ACTIVE',
  type: 'multinode',
  nodeProperties: { numNodes: 2, mainNode: 0, nodeRangeProperties: [{ targetNodes: '0:', container: { image: 'placeholder' } }] },
};

/** A clock that only moves when the code under test sleeps: limits and backoffs cost no real time. */
function virtualTiming(): Timing & { slept: number[]; clock: () => number } {
  let t = 0;
  const slept: number[] = [];
  return {
    now: () => t,
    sleep: async (ms) => {
      slept.push(ms);
      t += ms;
    },
    random: () => 0.5,
    slept,
    clock: () => t,
  };
}

function aJob(gpuCount: number, overrides: Partial<ComputeJobSpec> = {}): ComputeJobSpec {
  return {
    jobId: 'job_01jd0000000000000000000000',
    accountId: 'acct_01jd0000000000000000000000',
    image: 'ghcr.io/acme/train:1',
    command: ['python', 'train.py'],
    env: { EPOCHS: '3' },
    gpuType: 'a100',
    gpuCount,
    timeoutSeconds: 3570,
    graceSeconds: 30,
    ...overrides,
  };
}

beforeEach(() => {
  batchMock.reset();
  batchMock.on(ListJobsCommand).resolves({ jobSummaryList: [] });
  derived.clear();
  batchMock.on(DescribeJobDefinitionsCommand).callsFake(({ jobDefinitionName }: { jobDefinitionName?: string }) => ({
    jobDefinitions:
      jobDefinitionName === 'sx-single-node' ? [TEMPLATE_SINGLE] : jobDefinitionName === 'sx-multi-node' ? [TEMPLATE_MULTI] : (derived.get(jobDefinitionName!) ?? []),
  }));
  batchMock.on(RegisterJobDefinitionCommand).callsFake((input) => ({ jobDefinitionName: input.jobDefinitionName, jobDefinitionArn: `arn:derived/${input.jobDefinitionName}:1`, revision: 1 }));
  batchMock.on(SubmitJobCommand).resolves({ jobId: 'batch-1', jobName: 'job_01jd0000000000000000000000' });
});

const compute = (config: Partial<BatchComputeConfig> = {}) =>
  new BatchCompute(new BatchClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, maxAttempts: 1 }), {
    ...CONFIG,
    timing: virtualTiming(),
    ...config,
  });

const ENV = [
  { name: 'EPOCHS', value: '3' },
  { name: 'SX_JOB_ID', value: 'job_01jd0000000000000000000000' },
  { name: 'SX_OUTPUT_DIR', value: '/sx/output' },
  { name: 'SX_CHECKPOINT_DIR', value: '/sx/checkpoints' },
  { name: 'SX_INPUT_DIR', value: '/sx/input' },
  { name: 'SX_OUTPUT_URI', value: 's3://sx-outputs-123/outputs/job_01jd0000000000000000000000/' },
  { name: 'SX_CHECKPOINT_URI', value: 's3://sx-outputs-123/checkpoints/job_01jd0000000000000000000000/' },
  { name: 'SX_RUN_URI', value: 's3://sx-outputs-123/runs/job_01jd0000000000000000000000/' },
];
const RETRY = { attempts: 4, evaluateOnExit: [{ onStatusReason: 'Host EC2*', action: 'RETRY' }, { onReason: '*', action: 'EXIT' }] };
const TAGS = { 'sx:job-id': 'job_01jd0000000000000000000000', 'sx:account-id': 'acct_01jd0000000000000000000000' };

describe('BatchCompute.submit', () => {
  it('sends a 1-GPU job to the Spot queue on a single-node definition derived for its image', async () => {
    const { batchJobId } = await compute().submit(aJob(1));

    expect(batchJobId).toBe('batch-1');
    expect(batchMock.commandCalls(ListJobsCommand)[0]!.args[0].input).toEqual({
      jobQueue: 'sx-gpu-spot',
      filters: [{ name: 'JOB_NAME', values: ['job_01jd0000000000000000000000'] }],
    });
    const registered = batchMock.commandCalls(RegisterJobDefinitionCommand)[0]!.args[0].input;
    expect(registered).toMatchObject({
      jobDefinitionName: expect.stringMatching(/^sx-single-node-[0-9a-f]{16}$/),
      type: 'container',
      containerProperties: { image: 'ghcr.io/acme/train:1', jobRoleArn: 'arn:aws:iam::123:role/job' },
      platformCapabilities: ['EC2'],
    });
    expect(batchMock.commandCalls(SubmitJobCommand)[0]!.args[0].input).toEqual({
      jobName: 'job_01jd0000000000000000000000',
      jobQueue: 'sx-gpu-spot',
      jobDefinition: `arn:derived/${registered.jobDefinitionName}:1`,
      containerOverrides: {
        command: ['/sx/bin/sx-entry', 'python', 'train.py'],
        environment: [...ENV, { name: 'SX_GPU_COUNT', value: '1' }, { name: 'SX_STOP_GRACE_SECONDS', value: '30' }],
        resourceRequirements: [
          { type: 'GPU', value: '1' },
          { type: 'VCPU', value: '12' },
          { type: 'MEMORY', value: '137500' },
        ],
      },
      timeout: { attemptDurationSeconds: 3570 },
      retryStrategy: RETRY,
      tags: TAGS,
      propagateTags: true,
    });
  });

  it('sends an 8-GPU job on demand when there is no Spot queue, a whole node, with Batch\'s 60 s minimum timeout', async () => {
    await compute({ spotQueue: '' }).submit(aJob(8, { timeoutSeconds: 30 }));
    const input = batchMock.commandCalls(SubmitJobCommand)[0]!.args[0].input;
    expect(input).toMatchObject({
      jobQueue: 'sx-gpu-on-demand',
      containerOverrides: { resourceRequirements: [{ type: 'GPU', value: '8' }, { type: 'VCPU', value: '96' }, { type: 'MEMORY', value: '1100000' }] },
      timeout: { attemptDurationSeconds: 60 },
    });
  });

  it('sends a 32-GPU job as a 4-node multi-node parallel job, always on demand', async () => {
    await compute().submit(aJob(32));
    const registered = batchMock.commandCalls(RegisterJobDefinitionCommand)[0]!.args[0].input;
    expect(registered).toMatchObject({
      type: 'multinode',
      nodeProperties: { numNodes: 2, mainNode: 0, nodeRangeProperties: [{ targetNodes: '0:', container: { image: 'ghcr.io/acme/train:1' } }] },
    });
    const input = batchMock.commandCalls(SubmitJobCommand)[0]!.args[0].input;
    expect(input).toEqual({
      jobName: 'job_01jd0000000000000000000000',
      jobQueue: 'sx-gpu-on-demand',
      jobDefinition: `arn:derived/${registered.jobDefinitionName}:1`,
      nodeOverrides: {
        numNodes: 4,
        nodePropertyOverrides: [
          {
            targetNodes: '0:',
            containerOverrides: {
              command: ['/sx/bin/sx-entry', 'python', 'train.py'],
              environment: [...ENV, { name: 'SX_GPU_COUNT', value: '32' }, { name: 'SX_STOP_GRACE_SECONDS', value: '30' }],
              resourceRequirements: [
                { type: 'GPU', value: '8' },
                { type: 'VCPU', value: '96' },
                { type: 'MEMORY', value: '1100000' },
              ],
            },
          },
        ],
      },
      timeout: { attemptDurationSeconds: 3570 },
      retryStrategy: RETRY,
      tags: TAGS,
      propagateTags: true,
    });
  });

  it('finds the Batch job of a redelivered JobQueued instead of submitting a second one', async () => {
    batchMock.on(ListJobsCommand).resolves({ jobSummaryList: [{ jobId: 'batch-0', jobName: 'job_01jd0000000000000000000000', jobArn: 'arn', createdAt: 1, status: 'RUNNING' } as never] });
    expect(await compute().submit(aJob(1))).toEqual({ batchJobId: 'batch-0' });
    expect(batchMock.commandCalls(SubmitJobCommand)).toHaveLength(0);
  });

  it('reuses a job definition already derived for the image, and registers once per container', async () => {
    const batch = compute();
    await batch.submit(aJob(1));
    await batch.submit(aJob(2, { jobId: 'job_01jd0000000000000000000001' }));
    expect(batchMock.commandCalls(RegisterJobDefinitionCommand)).toHaveLength(1);

    // A new container (a cold Lambda) finds it in Batch by its name instead of registering again.
    const name = batchMock.commandCalls(RegisterJobDefinitionCommand)[0]!.args[0].input.jobDefinitionName!;
    derived.set(name, [{ jobDefinitionName: name, jobDefinitionArn: 'arn:existing:7', revision: 7, status: 'ACTIVE', type: 'container' }]);
    await compute().submit(aJob(1, { jobId: 'job_01jd0000000000000000000002' }));
    expect(batchMock.commandCalls(RegisterJobDefinitionCommand)).toHaveLength(1);
    expect(batchMock.commandCalls(SubmitJobCommand).at(-1)!.args[0].input.jobDefinition).toBe('arn:existing:7');
  });

  it('refuses a GPU count that does not fill whole nodes above 8', async () => {
    await expect(compute().submit(aJob(12))).rejects.toThrow(/whole nodes/);
    expect(batchMock.commandCalls(SubmitJobCommand)).toHaveLength(0);
  });
});

describe('BatchCompute.terminate and describe', () => {
  it('stops a started job with TerminateJob (never CancelJob), with our reason', async () => {
    batchMock.on(TerminateJobCommand).resolves({});
    await compute().terminate('batch-1', 'sx:insufficient_balance');
    expect(batchMock.commandCalls(TerminateJobCommand).map((c) => c.args[0].input)).toEqual([{ jobId: 'batch-1', reason: 'sx:insufficient_balance' }]);
    expect(batchMock.calls()).toHaveLength(1);
  });

  it('describes 250 jobs in calls of 100, in the order asked, leaving out unknown ones', async () => {
    batchMock.on(DescribeJobsCommand).callsFake(({ jobs }: { jobs: string[] }) => ({
      jobs: jobs
        .filter((id) => id !== 'b-7')
        .reverse()
        .map((id) => ({
          jobId: id,
          jobName: `job_${id}`,
          jobQueue: 'q',
          jobDefinition: 'd',
          status: 'RUNNING',
          startedAt: 1000,
          createdAt: 900,
          attempts: [{ startedAt: 100, stoppedAt: 200, statusReason: 'Host EC2 (instance i-1) terminated.', container: { exitCode: 137, logStreamName: 's/1' } }],
          container: { logStreamName: 's/2' },
          futureField: 'kept out',
        })),
    }));
    const ids = Array.from({ length: 250 }, (_, i) => `b-${i}`);
    const described = await compute().describe(ids);

    expect(batchMock.commandCalls(DescribeJobsCommand).map((c) => c.args[0].input.jobs!.length)).toEqual([100, 100, 50]);
    expect(described.map((d) => d.batchJobId)).toEqual(ids.filter((id) => id !== 'b-7'));
    expect(described[0]).toEqual({
      batchJobId: 'b-0',
      status: 'RUNNING',
      detail: {
        jobName: 'job_b-0',
        jobId: 'b-0',
        jobQueue: 'q',
        status: 'RUNNING',
        createdAt: 900,
        startedAt: 1000,
        attempts: [{ container: { exitCode: 137, logStreamName: 's/1' }, startedAt: 100, stoppedAt: 200, statusReason: 'Host EC2 (instance i-1) terminated.' }],
        container: { logStreamName: 's/2' },
      },
    });
  });
});

describe('BatchCompute under throttling', () => {
  const throttled = () => Object.assign(new Error('Too Many Requests'), { name: 'TooManyRequestsException', $metadata: { httpStatusCode: 429 } });

  it('retries TooManyRequestsException with jittered, growing pauses, then succeeds', async () => {
    const timing = virtualTiming();
    batchMock.on(TerminateJobCommand).rejectsOnce(throttled()).rejectsOnce(throttled()).resolves({});
    await compute({ timing, backoff: { baseDelayMs: 100 } }).terminate('batch-1', 'sx:x');
    expect(batchMock.commandCalls(TerminateJobCommand)).toHaveLength(3);
    // random() is 0.5: half of each bound, the bound doubling from 100 ms.
    expect(timing.slept).toEqual([50, 100]);
  });

  it('gives up after its attempts and surfaces the throttle, so the caller retries later', async () => {
    batchMock.on(TerminateJobCommand).rejects(throttled());
    await expect(compute({ backoff: { attempts: 3 } }).terminate('batch-1', 'sx:x')).rejects.toMatchObject({ name: 'TooManyRequestsException' });
    expect(batchMock.commandCalls(TerminateJobCommand)).toHaveLength(3);
  });

  it('does not retry a client error', async () => {
    batchMock.on(TerminateJobCommand).rejects(Object.assign(new Error('bad'), { name: 'ClientException', $metadata: { httpStatusCode: 400 } }));
    await expect(compute().terminate('batch-1', 'sx:x')).rejects.toMatchObject({ name: 'ClientException' });
    expect(batchMock.commandCalls(TerminateJobCommand)).toHaveLength(1);
  });

  it('keeps under its rate: 50 calls at 10 a second take about 4 s of (virtual) time', async () => {
    const timing = virtualTiming();
    batchMock.on(TerminateJobCommand).resolves({});
    const batch = compute({ timing, ratePerSecond: 10 });
    await Promise.all(Array.from({ length: 50 }, (_, i) => batch.terminate(`b-${i}`, 'sx:x')));
    expect(batchMock.commandCalls(TerminateJobCommand)).toHaveLength(50);
    // A burst of 10, then 40 more at 10 a second.
    expect(timing.clock()).toBeGreaterThanOrEqual(4000);
    expect(timing.clock()).toBeLessThan(4200);
  });
});

describe('BatchCompute capacity', () => {
  it('reads only the project\'s compute environments, and with none configured touches nothing', async () => {
    expect(await compute().pools()).toEqual([]);
    expect(batchMock.commandCalls(DescribeComputeEnvironmentsCommand)).toHaveLength(0);
    batchMock.on(DescribeComputeEnvironmentsCommand).resolves({ computeEnvironments: [] });
    await compute({ computeEnvironments: ['arn:ce/od', 'arn:ce/spot'] }).pools();
    expect(batchMock.commandCalls(DescribeComputeEnvironmentsCommand).map((c) => c.args[0].input)).toEqual([{ computeEnvironments: ['arn:ce/od', 'arn:ce/spot'] }]);
  });

  it('reads enabled managed compute environments and resizes one with UpdateComputeEnvironment', async () => {
    batchMock.on(DescribeComputeEnvironmentsCommand).resolves({
      computeEnvironments: [
        { computeEnvironmentName: 'sx-p4d-spot', computeEnvironmentArn: 'a', state: 'ENABLED', computeResources: { type: 'SPOT', minvCpus: 0, maxvCpus: 768, desiredvCpus: 0, subnets: [] } as never },
        { computeEnvironmentName: 'sx-p4d-od', computeEnvironmentArn: 'b', state: 'ENABLED', computeResources: { type: 'EC2', minvCpus: 96, maxvCpus: 1536, desiredvCpus: 192, subnets: [] } as never },
        { computeEnvironmentName: 'off', computeEnvironmentArn: 'c', state: 'DISABLED', computeResources: { type: 'EC2', subnets: [] } as never },
      ],
    });
    batchMock.on(UpdateComputeEnvironmentCommand).resolves({});
    const batch = compute({ computeEnvironments: ['sx-p4d-spot', 'sx-p4d-od', 'off'] });
    expect(await batch.pools()).toEqual([
      { name: 'sx-p4d-spot', market: 'spot', minvCpus: 0, maxvCpus: 768, desiredvCpus: 0 },
      { name: 'sx-p4d-od', market: 'on-demand', minvCpus: 96, maxvCpus: 1536, desiredvCpus: 192 },
    ]);
    await batch.resize('sx-p4d-od', { minvCpus: 384, desiredvCpus: 384 });
    await batch.resize('sx-p4d-od', { minvCpus: 0 });
    expect(batchMock.commandCalls(UpdateComputeEnvironmentCommand).map((c) => c.args[0].input)).toEqual([
      { computeEnvironment: 'sx-p4d-od', computeResources: { minvCpus: 384, desiredvCpus: 384 } },
      { computeEnvironment: 'sx-p4d-od', computeResources: { minvCpus: 0 } },
    ]);
  });
});

import { BatchClient, type JobDefinition } from '@aws-sdk/client-batch';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { BatchCompute } from '../../functions/adapters/batch-compute';
import { COMPUTE_ATTEMPTS, type ComputeJobSpec } from '../../functions/adapters/compute';
import { registerViolations, submitViolations } from '../support/batch-rules';
import { recordingHandler, testCredentials, type RecordedRequest } from '../support/recorded-aws';
import { buildTestApp, resourcesOf, SYNTH_TIMEOUT_MS } from './cdk-app';

// The job definitions CDK registers and the requests the Batch adapter sends are checked together:
// the templates come from the synthesized stack (as CloudFormation would register them), Batch
// answers DescribeJobDefinitions with them, and every request the adapter makes is the real SDK's
// serialized request. The two must describe the same job, and Batch's node-range rules must hold.
vi.setConfig({ testTimeout: SYNTH_TIMEOUT_MS, hookTimeout: SYNTH_TIMEOUT_MS });

/** CloudFormation's PascalCase property names as the API's camelCase; unresolved tokens as a string. */
function asApi(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(asApi);
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.some(([k]) => k.startsWith('Fn::') || k === 'Ref')) return 'sx-job-logs';
  return Object.fromEntries(entries.map(([k, v]) => [/^[A-Z]/.test(k) ? k[0]!.toLowerCase() + k.slice(1) : k, asApi(v)]));
}

/** What DescribeJobDefinitions answers for a template CloudFormation registered (with the tags it adds). */
let templates: Record<'single' | 'multi', JobDefinition>;
beforeAll(() => {
  const { stacks } = buildTestApp({ only: 'us-east-1' });
  const definitions = Object.values(resourcesOf(Template.fromStack(stacks['us-east-1']!.stateless), 'AWS::Batch::JobDefinition')).map((r) => asApi(r.Properties) as JobDefinition);
  const registered = (d: JobDefinition, revision: number): JobDefinition => ({
    ...d,
    jobDefinitionArn: `arn:aws:batch:us-east-1:123456789012:job-definition/${d.jobDefinitionName}:${revision}`,
    revision,
    status: 'ACTIVE',
    containerOrchestrationType: 'ECS',
    tags: { 'aws:cloudformation:stack-name': 'sx-us-east-1-stateless', 'aws:cloudformation:logical-id': 'X', ...d.tags },
  });
  templates = {
    single: registered(definitions.find((d) => d.type === 'container')!, 3),
    multi: registered(definitions.find((d) => d.type === 'multinode')!, 2),
  };
}, SYNTH_TIMEOUT_MS);

/** A Batch that knows the two templates and accepts what its documented rules accept. */
function recordingBatch() {
  const registered = new Map<string, JobDefinition>();
  const problems: string[] = [];
  const recorder = recordingHandler((request: RecordedRequest) => {
    const body = request.body ? JSON.parse(request.body) : {};
    switch (request.path) {
      case '/v1/listjobs':
        return { body: JSON.stringify({ jobSummaryList: [] }) };
      case '/v1/describejobdefinitions': {
        const name = body.jobDefinitionName ?? String(body.jobDefinitions?.[0]).split(':')[0];
        const found = [templates.single, templates.multi, ...registered.values()].filter((d) => d.jobDefinitionName === name);
        return { body: JSON.stringify({ jobDefinitions: found }) };
      }
      case '/v1/registerjobdefinition': {
        if (body.type === 'multinode') problems.push(...registerViolations(body.nodeProperties));
        const awsTags = Object.keys(body.tags ?? {}).filter((k) => k.toLowerCase().startsWith('aws:'));
        if (awsTags.length > 0) problems.push(`tags with the reserved aws: prefix: ${awsTags.join(', ')}`);
        const arn = `arn:aws:batch:us-east-1:123456789012:job-definition/${body.jobDefinitionName}:1`;
        registered.set(arn, { ...body, jobDefinitionArn: arn, revision: 1, status: 'ACTIVE' });
        return { body: JSON.stringify({ jobDefinitionName: body.jobDefinitionName, jobDefinitionArn: arn, revision: 1 }) };
      }
      case '/v1/submitjob': {
        const definition = registered.get(body.jobDefinition);
        if (!definition) problems.push(`unknown job definition ${body.jobDefinition}`);
        problems.push(...submitViolations(definition?.nodeProperties, body.nodeOverrides));
        return { body: JSON.stringify({ jobId: 'batch-1', jobName: body.jobName, jobArn: 'arn:aws:batch:us-east-1:123456789012:job/batch-1' }) };
      }
      default:
        throw new Error(`unexpected Batch call ${request.method} ${request.path}`);
    }
  });
  const client = new BatchClient({ region: 'us-east-1', credentials: testCredentials, maxAttempts: 1, requestHandler: recorder.handler });
  const compute = new BatchCompute(client, {
    onDemandQueue: 'sx-on-demand',
    spotQueue: 'sx-spot',
    singleNodeJobDefinition: 'sx-single-node',
    multiNodeJobDefinition: 'sx-multi-node',
    bucket: 'sx-files',
  });
  const sent = (path: string) => recorder.requests.filter((r) => r.path === path).map((r) => JSON.parse(r.body));
  return { compute, problems, sent };
}

const aJob = (gpuCount: number): ComputeJobSpec => ({
  jobId: 'job_01jd0000000000000000000000',
  accountId: 'acct_01jd0000000000000000000000',
  image: 'ghcr.io/acme/train:1',
  command: ['python', 'train.py'],
  env: {},
  gpuType: 'a100',
  gpuCount,
  timeoutSeconds: 3570,
  graceSeconds: 30,
});

describe('Batch job definitions: one description for CDK and SubmitJob', () => {
  it.each([16, 32, 64])('submits a %i-GPU multi-node job that Batch accepts: an open node range overridden to the job\'s node count', async (gpus) => {
    const batch = recordingBatch();
    await batch.compute.submit(aJob(gpus));
    expect(batch.problems).toEqual([]);
    const [submitted] = batch.sent('/v1/submitjob');
    expect(submitted.nodeOverrides.numNodes).toBe(gpus / 8);
    expect(submitted.nodeOverrides.nodePropertyOverrides.map((o: { targetNodes: string }) => o.targetNodes)).toEqual(['0:']);
  });

  it('registers a revision per image with every property of the CDK template, its image swapped and no aws: tags', async () => {
    for (const [gpus, template] of [
      [1, templates.single],
      [16, templates.multi],
    ] as const) {
      const batch = recordingBatch();
      await batch.compute.submit(aJob(gpus));
      const [registered] = batch.sent('/v1/registerjobdefinition');
      const { jobDefinitionArn, revision, status, containerOrchestrationType, tags, jobDefinitionName, ...properties } = template;
      const withImage = JSON.parse(JSON.stringify(properties).replaceAll('"public.ecr.aws/amazonlinux/amazonlinux:2023"', '"ghcr.io/acme/train:1"'));
      expect(registered).toEqual({
        ...withImage,
        jobDefinitionName: expect.stringMatching(new RegExp(`^${jobDefinitionName}-[0-9a-f]{16}$`)),
        tags: { ...Object.fromEntries(Object.entries(tags!).filter(([k]) => !k.startsWith('aws:'))), 'sx:template': jobDefinitionArn },
      });
      expect(batch.problems).toEqual([]);
    }
  });

  it('carries a template property the adapter has never heard of into the derived revision', async () => {
    const batch = recordingBatch();
    const saved = templates.single;
    templates.single = { ...saved, schedulingPriority: 7, parameters: { stage: 'train' } };
    try {
      await batch.compute.submit(aJob(1));
    } finally {
      templates.single = saved;
    }
    expect(batch.sent('/v1/registerjobdefinition')[0]).toMatchObject({ schedulingPriority: 7, parameters: { stage: 'train' } });
  });

  it('sends at SubmitJob the resources and retries the templates declare, for a part of a node and for whole nodes', async () => {
    const single = recordingBatch();
    await single.compute.submit(aJob(8));
    const multi = recordingBatch();
    await multi.compute.submit(aJob(16));
    const [one] = single.sent('/v1/submitjob');
    const [many] = multi.sent('/v1/submitjob');

    const nodeRange = templates.multi.nodeProperties!.nodeRangeProperties![0]!;
    expect(many.nodeOverrides.nodePropertyOverrides[0].containerOverrides.resourceRequirements).toEqual(nodeRange.container!.resourceRequirements);
    // A whole node's worth on one node is what a multi-node job's node gets.
    expect(one.containerOverrides.resourceRequirements).toEqual(nodeRange.container!.resourceRequirements);
    for (const submitted of [one, many]) expect(submitted.retryStrategy).toEqual(templates.single.retryStrategy);
    expect(templates.multi.retryStrategy).toEqual(templates.single.retryStrategy);
    expect(templates.single.retryStrategy!.attempts).toBe(COMPUTE_ATTEMPTS);
  });
});

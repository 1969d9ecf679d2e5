import { mkdtempSync, rmSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BatchClient,
  DescribeJobDefinitionsCommand,
  DescribeJobsCommand,
  ListJobsCommand,
  RegisterJobDefinitionCommand,
  SubmitJobCommand,
  TerminateJobCommand,
  type JobDetail,
} from '@aws-sdk/client-batch';
import { mockClient } from 'aws-sdk-client-mock';
import { BatchCompute } from '../../functions/adapters/batch-compute';
import { LocalCompute } from '../../infra/local/compute';
import { computeContract } from '../support/compute-contract';

computeContract('LocalCompute (host processes)', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'sx-contract-'));
  const compute = new LocalCompute({ dataDir, gpus: 8, onEvent: () => {} });
  return {
    compute,
    cleanup: async () => {
      await compute.stop({ graceSeconds: 0 });
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
});

/**
 * BatchCompute against a stand-in for Batch's job API that keeps jobs as Batch documents them:
 * named jobs found by ListJobs' JOB_NAME filter in any status, DescribeJobs leaving out unknown ids,
 * TerminateJob failing a job with the given reason and doing nothing to a finished one.
 */
computeContract('BatchCompute (AWS Batch job API as documented)', async () => {
  const batchMock = mockClient(BatchClient);
  const jobs = new Map<string, JobDetail>();
  batchMock.on(DescribeJobDefinitionsCommand).callsFake(({ jobDefinitionName }: { jobDefinitionName?: string }) => ({
    jobDefinitions: jobDefinitionName === 'sx-single' ? [{ jobDefinitionName, jobDefinitionArn: 'arn:def/sx-single:1', revision: 1, type: 'container', status: 'ACTIVE', containerProperties: {} }] : [],
  }));
  batchMock.on(RegisterJobDefinitionCommand).callsFake(({ jobDefinitionName }: { jobDefinitionName: string }) => ({ jobDefinitionName, jobDefinitionArn: `arn:def/${jobDefinitionName}:1`, revision: 1 }));
  batchMock.on(ListJobsCommand).callsFake(({ filters }: { filters: Array<{ values: string[] }> }) => ({
    jobSummaryList: [...jobs.values()].filter((j) => j.jobName!.toLowerCase() === filters[0]!.values[0]!.toLowerCase()).map((j) => ({ jobId: j.jobId, jobName: j.jobName })),
  }));
  batchMock.on(SubmitJobCommand).callsFake((input) => {
    const jobId = randomUUID();
    jobs.set(jobId, { jobId, jobName: input.jobName, jobQueue: input.jobQueue, jobDefinition: input.jobDefinition, status: 'SUBMITTED', startedAt: undefined, tags: input.tags } as JobDetail);
    return { jobId, jobName: input.jobName };
  });
  batchMock.on(DescribeJobsCommand).callsFake(({ jobs: ids }: { jobs: string[] }) => ({ jobs: ids.flatMap((id) => (jobs.has(id) ? [jobs.get(id)!] : [])) }));
  batchMock.on(TerminateJobCommand).callsFake(({ jobId, reason }: { jobId: string; reason: string }) => {
    const job = jobs.get(jobId);
    if (job && job.status !== 'FAILED' && job.status !== 'SUCCEEDED') jobs.set(jobId, { ...job, status: 'FAILED', statusReason: reason });
    return {};
  });
  const compute = new BatchCompute(new BatchClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } }), {
    onDemandQueue: 'od',
    spotQueue: 'spot',
    singleNodeJobDefinition: 'sx-single',
    multiNodeJobDefinition: 'sx-multi',
    bucket: 'b',
  });
  return { compute, cleanup: async () => void batchMock.restore() };
});

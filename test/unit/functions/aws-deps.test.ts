import { BatchClient, DescribeJobsCommand } from '@aws-sdk/client-batch';
import { CloudWatchLogsClient, GetLogEventsCommand, ResourceNotFoundException } from '@aws-sdk/client-cloudwatch-logs';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { AwsJobFiles } from '../../../functions/adapters/aws-job-files';
import { BatchCompute } from '../../../functions/adapters/batch-compute';
import { InMemoryEventStore } from '../../../functions/adapters/in-memory-event-store';
import { buildAwsDeps, cachedSecret } from '../../../functions/aws-deps';
import { readLambdaEnv } from '../../../functions/env';
import { jobQueued, jobId, submitted } from '../domain/fixtures';

const ENV = {
  SX_EVENTS_TABLE: 'sx-events',
  SX_VIEWS_TABLE: 'sx-views',
  SX_JOB_QUEUE_ON_DEMAND: 'od',
  SX_JOB_DEFINITION_SINGLE_NODE: 'single',
  SX_JOB_DEFINITION_MULTI_NODE: 'multi',
  SX_OUTPUT_BUCKET: 'sx-out',
  SX_ADMIN_KEY_SECRET: 'sx/admin-key',
  AWS_REGION: 'us-east-1',
};

afterEach(() => {
  mockClient(SecretsManagerClient).restore();
});

describe('buildAwsDeps', () => {
  it('builds every port from the Lambda environment, without any I/O', () => {
    const deps = buildAwsDeps(readLambdaEnv(ENV));
    expect(deps.tables).toEqual({ events: 'sx-events', views: 'sx-views' });
    expect(deps.compute).toBeInstanceOf(BatchCompute);
    expect(deps.capacity).toBe(deps.compute);
    expect(deps.files.outputUri(jobId)).toBe(`s3://sx-out/outputs/${jobId}/`);
    expect(deps.policy.stopGraceSeconds).toBe(30);
    expect(deps.sweeps).toEqual({ runnableTimeoutSeconds: 21600, lostJobSeconds: 300, capacityIdleSeconds: 900 });
  });

  it('names every missing variable', () => {
    expect(() => readLambdaEnv({})).toThrow(/SX_EVENTS_TABLE.*SX_VIEWS_TABLE/);
  });
});

describe('cachedSecret', () => {
  it('reads the admin key once per ttl, shares a read in flight, and does not keep a failure', async () => {
    const secrets = mockClient(SecretsManagerClient);
    secrets.on(GetSecretValueCommand).rejectsOnce(new Error('throttled')).resolves({ SecretString: 'admin-1' });
    let t = 0;
    const key = cachedSecret(new SecretsManagerClient({ region: 'us-east-1' }), 'sx/admin-key', 60_000, () => t);

    await expect(key()).rejects.toThrow('throttled');
    expect(await Promise.all([key(), key()])).toEqual(['admin-1', 'admin-1']);
    t = 59_999;
    await key();
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(2);
    secrets.on(GetSecretValueCommand).resolves({ SecretString: 'admin-2' });
    t = 60_000;
    expect(await key()).toBe('admin-2');
    expect(secrets.commandCalls(GetSecretValueCommand).map((c) => c.args[0].input)).toEqual(Array(3).fill({ SecretId: 'sx/admin-key' }));
  });
});

describe('AwsJobFiles.readLogs', () => {
  it("reads every attempt's log stream from the head, page by page, oldest attempt first", async () => {
    const batch = mockClient(BatchClient);
    const logs = mockClient(CloudWatchLogsClient);
    const store = new InMemoryEventStore();
    await store.append([{ streamId: `job#${jobId}`, expectedVersion: 0, events: [jobQueued, submitted] }], { at: '2026-11-25T12:00:00.000Z' });
    batch.on(DescribeJobsCommand).resolves({
      jobs: [
        {
          jobId: 'b-1', jobName: jobId, jobQueue: 'q', jobDefinition: 'd', status: 'RUNNING', startedAt: 1,
          attempts: [{ container: { logStreamName: 'single/default/a1' }, startedAt: 1, stoppedAt: 2, statusReason: 'Host EC2 (instance i-1) terminated.' }],
          container: { logStreamName: 'single/default/a2' },
        },
      ],
    });
    logs
      .on(GetLogEventsCommand, { logStreamName: 'single/default/a1' }).resolves({ events: [{ message: 'epoch 1' }], nextForwardToken: 'f/1' })
      .on(GetLogEventsCommand, { logStreamName: 'single/default/a1', nextToken: 'f/1' }).resolves({ events: [], nextForwardToken: 'f/1' })
      .on(GetLogEventsCommand, { logStreamName: 'single/default/a2' }).rejects(new ResourceNotFoundException({ message: 'no stream yet', $metadata: {} }));
    const files = new AwsJobFiles({
      store,
      compute: new BatchCompute(new BatchClient({ region: 'us-east-1' }), { onDemandQueue: 'od', spotQueue: '', singleNodeJobDefinition: 's', multiNodeJobDefinition: 'm', bucket: 'b' }),
      logs: new CloudWatchLogsClient({ region: 'us-east-1' }),
      logGroup: '/aws/batch/job',
      bucket: 'b',
    });

    expect(await files.readLogs(jobId)).toBe('epoch 1\n');
    expect(logs.commandCalls(GetLogEventsCommand).map((c) => c.args[0].input)).toEqual([
      { logGroupName: '/aws/batch/job', logStreamName: 'single/default/a1', startFromHead: true },
      { logGroupName: '/aws/batch/job', logStreamName: 'single/default/a1', startFromHead: true, nextToken: 'f/1' },
      { logGroupName: '/aws/batch/job', logStreamName: 'single/default/a2', startFromHead: true },
    ]);
    expect(await files.readLogs('job_01zzzzzzzzzzzzzzzzzzzzzzzz')).toBe('');
    batch.restore();
    logs.restore();
  });
});

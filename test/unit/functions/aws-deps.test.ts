import { BatchClient, DescribeJobsCommand } from '@aws-sdk/client-batch';
import { CloudWatchLogsClient, GetLogEventsCommand, ResourceNotFoundException } from '@aws-sdk/client-cloudwatch-logs';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { AwsJobFiles } from '../../../functions/adapters/aws-job-files';
import { BatchCompute } from '../../../functions/adapters/batch-compute';
import { InMemoryEventStore } from '../../../functions/adapters/in-memory-event-store';
import { secretReader } from '../../../functions/adapters/secrets-manager';
import { buildAwsDeps, cachedSecret, once } from '../../../functions/aws-deps';
import { buildDeps, policyFrom, rateLimitsFromSettings, sweepsFrom, type Ports } from '../../../functions/build-deps';
import { createDynamoClients } from '../../../functions/adapters/dynamodb';
import { tableNames } from '../../../infra/tables';
import { readLambdaEnv, readLocalEnv, ServiceSettings } from '../../../functions/env';
import { jobQueued, jobId, submitted } from '../domain/fixtures';

const ENV = {
  SX_EVENTS_TABLE: 'sx-events',
  SX_VIEWS_TABLE: 'sx-views',
  SX_METRICS_TABLE: 'sx-metrics',
  SX_JOB_QUEUE_ON_DEMAND: 'od',
  SX_JOB_DEFINITION_SINGLE_NODE: 'single',
  SX_JOB_DEFINITION_MULTI_NODE: 'multi',
  SX_OUTPUT_BUCKET: 'sx-out',
  SX_URL_SIGNER_ROLE_ARN: 'arn:aws:iam::123456789012:role/sx-url-signer',
  SX_ADMIN_KEY_SECRET: 'sx/admin-key',
  AWS_REGION: 'us-east-1',
};

afterEach(() => {
  mockClient(SecretsManagerClient).restore();
  mockClient(BatchClient).restore();
});

describe('buildAwsDeps', () => {
  it('builds every port from the Lambda environment, without any I/O', () => {
    const deps = buildAwsDeps(readLambdaEnv(ENV));
    expect(deps.tables).toEqual({ events: 'sx-events', views: 'sx-views', metrics: 'sx-metrics' });
    expect(deps.capacity).toBe(deps.compute);
    expect(deps.files.outputUri(jobId)).toBe(`s3://sx-out/outputs/${jobId}/`);
    expect(deps.policy.stopGraceSeconds).toBe(30);
    expect(deps.sweeps).toEqual({ runnableTimeoutSeconds: 21600, lostJobSeconds: 300, capacityIdleSeconds: 900 });
  });

  it('loads the Batch adapter on first use, once, and sends through it', async () => {
    const batch = mockClient(BatchClient);
    batch.on(DescribeJobsCommand).resolves({ jobs: [] });
    const deps = buildAwsDeps(readLambdaEnv(ENV));
    expect(await deps.compute.describe(['b-1'])).toEqual([]);
    expect(await deps.capacity.pools()).toEqual([]); // no compute environments configured
    await deps.compute.describe(['b-2']);
    expect(batch.commandCalls(DescribeJobsCommand).map((c) => c.args[0].input)).toEqual([{ jobs: ['b-1'] }, { jobs: ['b-2'] }]);
  });

  it('reads the admin key from Secrets Manager on first use', async () => {
    const secrets = mockClient(SecretsManagerClient);
    secrets.on(GetSecretValueCommand).resolves({ SecretString: 'admin-key' });
    const deps = buildAwsDeps(readLambdaEnv(ENV));
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(0);
    expect(await deps.adminKey()).toBe('admin-key');
    expect(secrets.commandCalls(GetSecretValueCommand).map((c) => c.args[0].input)).toEqual([{ SecretId: 'sx/admin-key' }]);
  });

  it('prices the A100 from SX_PRICE_A100, or from AWS\'s price at SX_CNY_PER_USD, as the local stack does', () => {
    expect(buildAwsDeps(readLambdaEnv(ENV)).policy.prices.a100).toBe(1163);
    expect(buildAwsDeps(readLambdaEnv({ ...ENV, SX_PRICE_A100: '1500' })).policy.prices.a100).toBe(1500);
    expect(buildAwsDeps(readLambdaEnv({ ...ENV, SX_CNY_PER_USD: '7.2' })).policy.prices.a100).toBe(1180);
    // An explicit price wins over the exchange rate; an empty variable is an unset one.
    expect(buildAwsDeps(readLambdaEnv({ ...ENV, SX_PRICE_A100: '900', SX_CNY_PER_USD: '7.2' })).policy.prices.a100).toBe(900);
    expect(buildAwsDeps(readLambdaEnv({ ...ENV, SX_PRICE_A100: '' })).policy.prices.a100).toBe(1163);
    expect(() => readLambdaEnv({ ...ENV, SX_CNY_PER_USD: '0' })).toThrow(/SX_CNY_PER_USD: must be a positive rate/);
  });

  it('names every missing variable', () => {
    expect(() => readLambdaEnv({})).toThrow(/SX_EVENTS_TABLE.*SX_VIEWS_TABLE/);
  });
});

describe('once', () => {
  it('shares one load between callers and retries after a failed one', async () => {
    let loads = 0;
    const load = once(async () => {
      loads += 1;
      if (loads === 1) throw new Error('import failed');
      return loads;
    });
    await expect(load()).rejects.toThrow('import failed');
    expect(await Promise.all([load(), load()])).toEqual([2, 2]);
    expect(await load()).toBe(2);
    expect(loads).toBe(2);
  });
});

describe('cachedSecret', () => {
  it('reads the admin key once per ttl, shares a read in flight, and does not keep a failure', async () => {
    const secrets = mockClient(SecretsManagerClient);
    secrets.on(GetSecretValueCommand).rejectsOnce(new Error('throttled')).resolves({ SecretString: 'admin-1' });
    let t = 0;
    const key = cachedSecret(secretReader('sx/admin-key', new SecretsManagerClient({ region: 'us-east-1' })), 60_000, () => t);

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

/** A value other than the default for every service setting: a new setting does not compile until it has one here. */
const SAMPLES: Record<keyof ServiceSettings, string> = {
  SX_STOP_GRACE_SECONDS: '45',
  SX_PRICE_A100: '1500',
  SX_CNY_PER_USD: '7.2',
  SX_RUNNABLE_TIMEOUT_SECONDS: '60',
  SX_LOST_JOB_SECONDS: '61',
  SX_CAPACITY_IDLE_SECONDS: '62',
  SX_REQUESTS_PER_KEY_PER_MINUTE: '120',
  SX_SIGNUPS_PER_SOURCE_PER_HOUR: '3',
  SX_FAILED_AUTH_PER_SOURCE_PER_5_MINUTES: '5',
  SX_METRICS_RETENTION_DAYS: '30',
};

/** What the settings decide, as a Lambda function builds it and as the local stack builds it (`npm start`'s environment). */
const rules = {
  aws: (env: Record<string, string>) => {
    const deps = buildAwsDeps(readLambdaEnv({ ...ENV, ...env }));
    return { policy: deps.policy, sweeps: deps.sweeps, rateLimits: deps.rateLimits, metricsRetentionDays: deps.metricsRetentionDays };
  },
  local: (env: Record<string, string>) => {
    const settings = readLocalEnv(env);
    const deps = buildDeps(settings, { doc: createDynamoClients().doc, tables: tableNames('sx-test') } as Ports);
    return { policy: policyFrom(settings), sweeps: sweepsFrom(settings), rateLimits: rateLimitsFromSettings(settings), metricsRetentionDays: deps.metricsRetentionDays };
  },
};

describe('one configuration for AWS and the local stack', () => {
  it('gives the same rules in both with every setting at its default', () => {
    expect(rules.aws({})).toEqual(rules.local({}));
  });

  it.each(Object.entries(SAMPLES))('%s=%s changes the rules, the same way in AWS and locally', (name, value) => {
    const aws = rules.aws({ [name]: value });
    expect(aws).toEqual(rules.local({ [name]: value }));
    // A setting that is read but changes nothing would be a setting that does not work.
    expect(aws).not.toEqual(rules.aws({}));
  });

  it('lists each setting once, in the schema both environments extend', () => {
    const service = Object.keys(ServiceSettings.shape);
    expect(Object.keys(SAMPLES).sort()).toEqual([...service].sort());
    expect(readLambdaEnv(ENV)).toMatchObject(ServiceSettings.parse({}));
    expect(readLocalEnv({})).toMatchObject(ServiceSettings.parse({}));
  });
});

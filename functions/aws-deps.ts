import { BatchClient } from '@aws-sdk/client-batch';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { defaultPolicy } from '../domain/policy';
import { AwsJobFiles } from './adapters/aws-job-files';
import { BatchCompute } from './adapters/batch-compute';
import { createDynamoClients } from './adapters/dynamodb';
import { DynamoDbEventStore } from './adapters/dynamodb-event-store';
import { ulidIds, type Deps } from './deps';
import { readLambdaEnv, type LambdaEnv } from './env';

/**
 * Builds a Lambda function's dependencies from its environment (the schema in `functions/env.ts`):
 * the DynamoDB event store, AWS Batch behind the compute and capacity ports, job files in
 * CloudWatch Logs and S3, and the admin key from Secrets Manager. Creating the clients does no I/O.
 * @throws Error naming every missing or invalid environment variable.
 */
export function buildAwsDeps(env: LambdaEnv = readLambdaEnv(), now: () => number = Date.now): Deps {
  const { doc } = createDynamoClients();
  const tables = { events: env.SX_EVENTS_TABLE, views: env.SX_VIEWS_TABLE };
  const store = new DynamoDbEventStore({ doc, tableName: tables.events });
  // Our adapter retries throttling with jittered backoff under a rate limit; SDK retries would multiply it.
  const batch = new BatchCompute(new BatchClient({ maxAttempts: 1 }), {
    onDemandQueue: env.SX_JOB_QUEUE_ON_DEMAND,
    spotQueue: env.SX_JOB_QUEUE_SPOT,
    singleNodeJobDefinition: env.SX_JOB_DEFINITION_SINGLE_NODE,
    multiNodeJobDefinition: env.SX_JOB_DEFINITION_MULTI_NODE,
    bucket: env.SX_OUTPUT_BUCKET,
    computeEnvironments: env.SX_COMPUTE_ENVIRONMENTS.split(',').filter(Boolean),
    ratePerSecond: env.SX_BATCH_TPS,
  });
  const files = new AwsJobFiles({ store, compute: batch, logs: new CloudWatchLogsClient({}), logGroup: env.SX_JOB_LOG_GROUP, bucket: env.SX_OUTPUT_BUCKET });
  return {
    store,
    doc,
    tables,
    compute: batch,
    capacity: batch,
    files,
    policy: { ...defaultPolicy, stopGraceSeconds: env.SX_STOP_GRACE_SECONDS },
    sweeps: {
      runnableTimeoutSeconds: env.SX_RUNNABLE_TIMEOUT_SECONDS,
      lostJobSeconds: env.SX_LOST_JOB_SECONDS,
      capacityIdleSeconds: env.SX_CAPACITY_IDLE_SECONDS,
    },
    now: () => new Date(now()),
    ids: ulidIds(),
    adminKey: cachedSecret(new SecretsManagerClient({}), env.SX_ADMIN_KEY_SECRET, env.SX_ADMIN_KEY_CACHE_SECONDS * 1000, now),
  };
}

/**
 * A secret's string value, read from Secrets Manager at most once per `ttlMs` (a rotation is seen
 * within that time). Concurrent callers share one read. A failed read is not cached.
 * @throws the Secrets Manager error, or Error for a secret with no string value.
 */
export function cachedSecret(client: Pick<SecretsManagerClient, 'send'>, secretId: string, ttlMs: number, now: () => number = Date.now): () => Promise<string> {
  let cached: { value: Promise<string>; at: number } | undefined;
  return () => {
    if (!cached || now() - cached.at >= ttlMs) {
      const value = client.send(new GetSecretValueCommand({ SecretId: secretId })).then((out) => {
        if (!out.SecretString) throw new Error(`Secret ${secretId} has no string value`);
        return out.SecretString;
      });
      const entry = { value, at: now() };
      cached = entry;
      value.catch(() => {
        if (cached === entry) cached = undefined;
      });
    }
    return cached.value;
  };
}

import type { BatchCompute } from './adapters/batch-compute';
import type { Capacity, Compute, JobFiles } from './adapters/compute';
import { s3OutputUri } from './adapters/compute';
import { createDynamoClients } from './adapters/dynamodb';
import type { ObjectStore } from './adapters/object-store';
import { buildDeps } from './build-deps';
import type { Deps } from './deps';
import { readLambdaEnv, type LambdaEnv } from './env';

/**
 * Builds a Lambda function's dependencies from its environment (the schema in `functions/env.ts`)
 * with `buildDeps`, as the local stack does, so the service's settings mean the same in both. The
 * ports: the DynamoDB event store, AWS Batch behind the compute and capacity ports, job files in
 * CloudWatch Logs and S3, and the admin key from Secrets Manager. Creating the clients does no I/O.
 *
 * Only DynamoDB, which every handler uses, is imported with this module. The Batch, CloudWatch
 * Logs and Secrets Manager clients (and the adapters that use them) are imported on a port's first
 * call, so a function that never submits a job, reads logs or checks the admin key never loads
 * them: each SDK client costs 100–300 ms of cold start (BENCHMARKS.md, "Lambda bundles"). The
 * bundler splits these dynamic imports into chunks (`infra/cdk/bundling.ts`).
 * @throws Error naming every missing or invalid environment variable.
 */
export function buildAwsDeps(env: LambdaEnv = readLambdaEnv(), now: () => number = Date.now): Deps {
  const { doc } = createDynamoClients();
  const tables = { events: env.SX_EVENTS_TABLE, views: env.SX_VIEWS_TABLE, metrics: env.SX_METRICS_TABLE };
  // One instance per container once loaded: it holds the Batch rate limiter and the job definition cache.
  const batch = once(async (): Promise<BatchCompute> => {
    const [{ BatchClient }, { BatchCompute }] = await Promise.all([import('@aws-sdk/client-batch'), import('./adapters/batch-compute')]);
    // Our adapter retries throttling with jittered backoff under a rate limit; SDK retries would multiply it.
    return new BatchCompute(new BatchClient({ maxAttempts: 1 }), {
      onDemandQueue: env.SX_JOB_QUEUE_ON_DEMAND,
      spotQueue: env.SX_JOB_QUEUE_SPOT,
      singleNodeJobDefinition: env.SX_JOB_DEFINITION_SINGLE_NODE,
      multiNodeJobDefinition: env.SX_JOB_DEFINITION_MULTI_NODE,
      bucket: env.SX_OUTPUT_BUCKET,
      computeEnvironments: env.SX_COMPUTE_ENVIRONMENTS.split(',').filter(Boolean),
      ratePerSecond: env.SX_BATCH_TPS,
    });
  });
  const compute: Compute & Capacity = {
    submit: async (spec) => (await batch()).submit(spec),
    terminate: async (batchJobId, reason) => (await batch()).terminate(batchJobId, reason),
    describe: async (batchJobIds) => (await batch()).describe(batchJobIds),
    pools: async () => (await batch()).pools(),
    resize: async (name, target) => (await batch()).resize(name, target),
  };
  const awsFiles = once(async () => {
    const [{ CloudWatchLogsClient }, { AwsJobFiles }] = await Promise.all([import('@aws-sdk/client-cloudwatch-logs'), import('./adapters/aws-job-files')]);
    return new AwsJobFiles({ store: deps.store, compute, logs: new CloudWatchLogsClient({}), logGroup: env.SX_JOB_LOG_GROUP, bucket: env.SX_OUTPUT_BUCKET });
  });
  const files: JobFiles = {
    readLogs: async (jobId) => (await awsFiles()).readLogs(jobId),
    outputUri: (jobId) => s3OutputUri(env.SX_OUTPUT_BUCKET, jobId),
  };
  const s3 = once(async (): Promise<ObjectStore> => {
    const [{ S3Client }, { S3ObjectStore, S3_CLIENT_OPTIONS }, { STSClient }, { stsScopedCredentials }] = await Promise.all([
      import('@aws-sdk/client-s3'),
      import('./adapters/s3-object-store'),
      import('@aws-sdk/client-sts'),
      import('./adapters/sts-scoped-credentials'),
    ]);
    // URLs are signed by sessions of the URL-signing role, each narrowed to what it signs.
    const scopedCredentials = stsScopedCredentials(new STSClient({}), { roleArn: env.SX_URL_SIGNER_ROLE_ARN, bucket: env.SX_OUTPUT_BUCKET });
    return new S3ObjectStore({ client: new S3Client({ ...S3_CLIENT_OPTIONS }), bucket: env.SX_OUTPUT_BUCKET, scopedCredentials });
  });
  const objects: ObjectStore = {
    createUpload: async (...a) => (await s3()).createUpload(...a),
    signParts: async (...a) => (await s3()).signParts(...a),
    listParts: async (...a) => (await s3()).listParts(...a),
    completeUpload: async (...a) => (await s3()).completeUpload(...a),
    listUploads: async (...a) => (await s3()).listUploads(...a),
    abortUpload: async (...a) => (await s3()).abortUpload(...a),
    size: async (...a) => (await s3()).size(...a),
    sha256: async (...a) => (await s3()).sha256(...a),
    signGets: async (...a) => (await s3()).signGets(...a),
    list: async (...a) => (await s3()).list(...a),
    read: async (...a) => (await s3()).read(...a),
    putFile: async (...a) => (await s3()).putFile(...a),
    delete: async (...a) => (await s3()).delete(...a),
  };
  const readAdminKey = once(async () => {
    const { secretReader } = await import('./adapters/secrets-manager');
    return secretReader(env.SX_ADMIN_KEY_SECRET);
  });
  const adminKey = cachedSecret(async () => (await readAdminKey())(), env.SX_ADMIN_KEY_CACHE_SECONDS * 1000, now);
  // The job files (loaded on first use, after this) read job streams through the same store.
  const deps = buildDeps(env, { doc, tables, compute, capacity: compute, files, objects, adminKey }, now);
  return deps;
}

/**
 * `load()` once: concurrent and later callers share its promise. A rejected load is not kept, so
 * the next call tries again (a transient import or construction failure does not stick).
 */
export function once<T>(load: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    if (!pending) {
      const attempt = load();
      pending = attempt;
      attempt.catch(() => {
        if (pending === attempt) pending = undefined;
      });
    }
    return pending;
  };
}

/**
 * A secret's value from `read`, read at most once per `ttlMs` (a rotation is seen within that
 * time). Concurrent callers share one read. A failed read is not cached.
 * @throws whatever `read` throws.
 */
export function cachedSecret(read: () => Promise<string>, ttlMs: number, now: () => number = Date.now): () => Promise<string> {
  let cached: { value: Promise<string>; at: number } | undefined;
  return () => {
    if (!cached || now() - cached.at >= ttlMs) {
      const value = read();
      const entry = { value, at: now() };
      cached = entry;
      value.catch(() => {
        if (cached === entry) cached = undefined;
      });
    }
    return cached.value;
  };
}

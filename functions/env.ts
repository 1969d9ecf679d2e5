import * as z from 'zod';
import { parseCnyPerUsd } from '../domain/pricing';
import { NonEmptyString } from '../events/values';

/**
 * Every `SX_*` setting of the service, in one place: its schema, its default, and a line saying
 * what it does. Three groups:
 * - {@link ServiceSettings}: the rules of the service (prices, stop grace, sweeps). Lambda and the
 *   local stack read the same ones and build their dependencies from them with the same function
 *   (`buildDeps` in `functions/build-deps.ts`), so a setting cannot work in one and not the other.
 *   In AWS they come from a region's `settings` in `infra/cdk/regions.json` (or `-c NAME=value`).
 * - {@link LambdaEnv}: those plus where things are in AWS, which the CDK stack sets.
 * - {@link LocalEnv}: those plus where the local stack keeps things, for `npm start`.
 * An empty value counts as unset. Add a setting here, with its default, before reading it anywhere.
 */

/** An empty variable is an unset one (`SX_PRICE_A100=` means "no explicit price"). */
const unsetIfEmpty = <T extends z.ZodType>(schema: T) => z.preprocess((value) => (value === '' ? undefined : value), schema);
const wholeNumber = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

export const ServiceSettings = z.object({
  /** Seconds between SIGTERM and SIGKILL when a job is stopped, held on top of its runtime (also the Batch nodes' ECS stop timeout). */
  SX_STOP_GRACE_SECONDS: unsetIfEmpty(wholeNumber(0, 600).default(30)),
  /** A100 price in fen per GPU-hour; unset: derived from AWS's p4d price (domain/pricing.ts) at SX_CNY_PER_USD. */
  SX_PRICE_A100: unsetIfEmpty(wholeNumber(0, 10_000_000).optional()),
  /** CNY per USD for the derived A100 price, e.g. `7.10` (at most 4 decimals). @default 7.10 */
  SX_CNY_PER_USD: unsetIfEmpty(
    z
      .string()
      .refine((text) => /^\d{1,3}(\.\d{1,4})?$/.test(text.trim()) && Number(text) > 0, 'must be a positive rate like 7.10, at most 4 decimals')
      .transform(parseCnyPerUsd)
      .optional(),
  ),
  /** A job waiting for capacity longer than this fails with `infrastructure`, at no charge. */
  SX_RUNNABLE_TIMEOUT_SECONDS: unsetIfEmpty(z.coerce.number().int().positive().default(6 * 3600)),
  /** A job the compute side no longer knows for this long is failed with `infrastructure`, at no charge. */
  SX_LOST_JOB_SECONDS: unsetIfEmpty(z.coerce.number().int().positive().default(300)),
  /** Idle p4d nodes are let go (the compute environment's minimum drops) after this long without demand. */
  SX_CAPACITY_IDLE_SECONDS: unsetIfEmpty(z.coerce.number().int().nonnegative().default(900)),
  /** Requests one API key may make a minute (functions/http/rate-limits.ts; the admin key is not limited). */
  SX_REQUESTS_PER_KEY_PER_MINUTE: unsetIfEmpty(wholeNumber(1, 1_000_000).default(600)),
  /** Signups one source address may make an hour. */
  SX_SIGNUPS_PER_SOURCE_PER_HOUR: unsetIfEmpty(wholeNumber(1, 1_000_000).default(10)),
  /** Failed authentications one source address may make in 5 minutes; past them it is refused before its key is read. */
  SX_FAILED_AUTH_PER_SOURCE_PER_5_MINUTES: unsetIfEmpty(wholeNumber(1, 1_000_000).default(30)),
  /** Days a job's metric points are kept after they were logged. */
  SX_METRICS_RETENTION_DAYS: unsetIfEmpty(wholeNumber(1, 3650).default(365)),
});
export type ServiceSettings = z.infer<typeof ServiceSettings>;

/**
 * The environment every Lambda function receives from the CDK stack: the one contract between
 * `infra/cdk` (which sets these) and `functions/aws-deps.ts` (which reads them). The CDK tests check
 * that every function gets what this requires.
 */
export const LambdaEnv = ServiceSettings.extend({
  SX_EVENTS_TABLE: NonEmptyString,
  SX_VIEWS_TABLE: NonEmptyString,
  SX_METRICS_TABLE: NonEmptyString,
  /** Batch job queues: on-demand (any job) and Spot (single-node jobs only; empty when Spot is off). */
  SX_JOB_QUEUE_ON_DEMAND: NonEmptyString,
  SX_JOB_QUEUE_SPOT: z.string().default(''),
  /** Batch job definitions: single node (1–8 GPUs) and multi-node parallel (16–64 GPUs). */
  SX_JOB_DEFINITION_SINGLE_NODE: NonEmptyString,
  SX_JOB_DEFINITION_MULTI_NODE: NonEmptyString,
  /** Bucket for job outputs (`outputs/<job id>/`) and checkpoints (`checkpoints/<job id>/`). */
  SX_OUTPUT_BUCKET: NonEmptyString,
  /**
   * The role whose sessions sign the URLs of files, outputs and checkpoints, each session narrowed by
   * its session policy to the one key (or job prefix) it signs for (infra/cdk/constructs/storage.ts).
   */
  SX_URL_SIGNER_ROLE_ARN: NonEmptyString,
  /** Batch writes job logs here (the default Batch log group unless configured). */
  SX_JOB_LOG_GROUP: z.string().default('/aws/batch/job'),
  /** Secrets Manager id of the admin key. */
  SX_ADMIN_KEY_SECRET: NonEmptyString,
  /**
   * The project's compute environments (comma-separated names or ARNs): the capacity sweep reads and
   * resizes only these, never another compute environment of the account. Empty: it resizes none.
   */
  SX_COMPUTE_ENVIRONMENTS: z.string().default(''),
  /**
   * The projections' SQS FIFO queue URLs (comma-separated), to which `forward-events`, the one reader
   * of the events stream, forwards each event. Set on that function only; empty elsewhere.
   */
  SX_PROJECTION_QUEUES: z.string().default(''),
  /** Calls a second each function container makes to Batch (Batch allows 50 per account and region, shared by all). */
  SX_BATCH_TPS: unsetIfEmpty(z.coerce.number().positive().max(50).default(10)),
  /** How long the admin key read from Secrets Manager is reused before it is read again. */
  SX_ADMIN_KEY_CACHE_SECONDS: unsetIfEmpty(z.coerce.number().int().nonnegative().default(60)),
});
export type LambdaEnv = z.infer<typeof LambdaEnv>;

/** What `npm start` (infra/local/main.ts) reads besides {@link ServiceSettings}. */
export const LocalEnv = ServiceSettings.extend({
  /** HTTP port of the local API; 0 picks a free one. */
  PORT: unsetIfEmpty(wholeNumber(0, 65535).default(3000)),
  /** Where the local stack keeps DynamoDB Local's files, job outputs and logs. */
  SX_DATA_DIR: unsetIfEmpty(z.string().default('.data')),
  /** Simulated GPUs of the local compute backend. */
  SX_GPUS: unsetIfEmpty(wholeNumber(1, 1024).default(8)),
  /** The admin key (`/v1/admin/*`); unset: a new one is generated and printed at start. */
  SX_ADMIN_KEY: unsetIfEmpty(z.string().optional()),
  /** Use this DynamoDB instead of starting DynamoDB Local under the data dir. */
  SX_DYNAMODB_ENDPOINT: unsetIfEmpty(z.url().optional()),
  /** Tables `<prefix>-events` and `<prefix>-views`. */
  SX_TABLE_PREFIX: unsetIfEmpty(z.string().regex(/^[A-Za-z0-9_.-]+$/).default('sx-local')),
});
export type LocalEnv = z.infer<typeof LocalEnv>;

/**
 * Reads and checks the Lambda environment.
 * @throws Error naming every missing or invalid variable (a deployment defect, found on first use).
 */
export function readLambdaEnv(env: NodeJS.ProcessEnv = process.env): LambdaEnv {
  return readSettings(LambdaEnv, env, 'Lambda environment');
}

/**
 * Reads and checks the local stack's environment.
 * @throws Error naming every invalid variable.
 */
export function readLocalEnv(env: NodeJS.ProcessEnv = process.env): LocalEnv {
  return readSettings(LocalEnv, env, 'environment');
}

/**
 * Parses settings (strings, as in an environment) with `schema`.
 * @throws Error `Invalid <what>: NAME: problem; …` naming every missing or invalid one.
 */
export function readSettings<S extends z.ZodType>(schema: S, env: Record<string, unknown>, what: string): z.infer<S> {
  const parsed = schema.safeParse(env);
  if (parsed.success) return parsed.data;
  throw new Error(`Invalid ${what}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
}

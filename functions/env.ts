import * as z from 'zod';
import { NonEmptyString } from '../events/values';

/**
 * The environment every Lambda function receives from the CDK stack: the one contract between
 * `infra/cdk` (which sets these) and `functions/aws-deps.ts` (which reads them). Add a variable here
 * first, then set it in the stack; the CDK tests check that every function gets what this requires.
 */
export const LambdaEnv = z.object({
  SX_EVENTS_TABLE: NonEmptyString,
  SX_VIEWS_TABLE: NonEmptyString,
  SX_METRICS_TABLE: NonEmptyString,
  /** Days a job's metric points are kept after they were logged. */
  SX_METRICS_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(365),
  /** Batch job queues: on-demand (any job) and Spot (single-node jobs only; empty when Spot is off). */
  SX_JOB_QUEUE_ON_DEMAND: NonEmptyString,
  SX_JOB_QUEUE_SPOT: z.string().default(''),
  /** Batch job definitions: single node (1–8 GPUs) and multi-node parallel (16–64 GPUs). */
  SX_JOB_DEFINITION_SINGLE_NODE: NonEmptyString,
  SX_JOB_DEFINITION_MULTI_NODE: NonEmptyString,
  /** Bucket for job outputs (`outputs/<job id>/`) and checkpoints (`checkpoints/<job id>/`). */
  SX_OUTPUT_BUCKET: NonEmptyString,
  /** Batch writes job logs here (the default Batch log group unless configured). */
  SX_JOB_LOG_GROUP: z.string().default('/aws/batch/job'),
  /** Secrets Manager id of the admin key. */
  SX_ADMIN_KEY_SECRET: NonEmptyString,
  SX_STOP_GRACE_SECONDS: z.coerce.number().int().min(0).max(600).default(30),
  /** A100 price in fen per GPU-hour; unset: derived from AWS's p4d price (domain/pricing.ts) at SX_CNY_PER_USD. */
  SX_PRICE_A100: z.coerce.number().int().min(0).max(10_000_000).optional(),
  /** CNY per USD for the derived price, e.g. `7.10`. */
  SX_CNY_PER_USD: z.string().regex(/^\d{1,3}(\.\d{1,4})?$/).optional(),
  /** Calls a second each function container makes to Batch (Batch allows 50 per account and region, shared by all). */
  /**
   * The project's compute environments (comma-separated names or ARNs): the capacity sweep reads and
   * resizes only these, never another compute environment of the account. Empty: it resizes none.
   */
  SX_COMPUTE_ENVIRONMENTS: z.string().default(''),
  SX_BATCH_TPS: z.coerce.number().positive().max(50).default(10),
  /** A job waiting for capacity longer than this fails with `infrastructure`, at no charge. */
  SX_RUNNABLE_TIMEOUT_SECONDS: z.coerce.number().int().positive().default(6 * 3600),
  /** A job Batch no longer knows for this long is failed with `infrastructure`, at no charge. */
  SX_LOST_JOB_SECONDS: z.coerce.number().int().positive().default(300),
  /** Idle p4d nodes are let go (the compute environment's minimum drops) after this long without demand. */
  SX_CAPACITY_IDLE_SECONDS: z.coerce.number().int().nonnegative().default(900),
  /** How long the admin key read from Secrets Manager is reused before it is read again. */
  SX_ADMIN_KEY_CACHE_SECONDS: z.coerce.number().int().nonnegative().default(60),
});
export type LambdaEnv = z.infer<typeof LambdaEnv>;

/**
 * Reads and checks the Lambda environment.
 * @throws Error naming every missing or invalid variable (a deployment defect, found on first use).
 */
export function readLambdaEnv(env: NodeJS.ProcessEnv = process.env): LambdaEnv {
  const parsed = LambdaEnv.safeParse(env);
  if (parsed.success) return parsed.data;
  throw new Error(`Invalid Lambda environment: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
}

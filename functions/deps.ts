import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { monotonicFactory } from 'ulidx';
import type { Policy } from '../domain/policy';
import type { TableNames } from '../infra/tables';
import type { Capacity, Compute, JobFiles } from './adapters/compute';
import type { EventStore } from './adapters/event-store';
import type { ObjectStore } from './adapters/object-store';
import type { RateLimits, RequestCounter } from './http/rate-limits';
import type { WebhookSettings } from './webhooks/settings';

/** Ids for new things. Time-ordered (ULID), so newest-first lists sort by id. */
export interface Ids {
  account(): string;
  job(): string;
  apiKey(): string;
  voucher(): string;
  webhookEndpoint(): string;
  file(): string;
}

/**
 * Everything a handler may use. Lambda builds it from the environment (`aws-deps.ts`); the local
 * stack builds the same with local stand-ins for what only AWS runs (Batch).
 */
export interface Deps {
  store: EventStore;
  doc: DynamoDBDocumentClient;
  tables: TableNames;
  compute: Compute;
  /** The GPU pools the capacity projection steers (Batch compute environments; the local pool). */
  capacity: Capacity;
  files: JobFiles;
  /** Object storage of files, outputs and checkpoints (S3 in AWS, the local S3-compatible server locally). */
  objects: ObjectStore;
  /** Settings of the scheduled sweeps (reconciler, hold enforcer, capacity); defaults in {@link sweepDefaults}. */
  sweeps?: Partial<SweepSettings>;
  policy: Policy;
  now: () => Date;
  ids: Ids;
  /**
   * The admin key (API.md: from Secrets Manager in AWS, `SX_ADMIN_KEY` or generated locally).
   * Fetched on use so a rotated secret is picked up; implementations may cache it briefly.
   */
  adminKey: () => Promise<string>;
  /** Days metric points are kept after they were logged. @default 365 */
  metricsRetentionDays?: number;
  /** Webhook delivery overrides (the local stack allows loopback receivers; tests speed up retries). @default AWS's */
  webhooks?: Partial<WebhookSettings>;
  /** Request limits per key and per source address. @default `defaultRateLimits` (functions/http/rate-limits.ts) */
  rateLimits?: Partial<RateLimits>;
  /** Where those requests are counted (the views table in AWS and locally). */
  requestCounter: RequestCounter;
}

/** ULID-based ids, lower-cased: `job_01jd…`. Monotonic within a process, so ids minted in one ms still sort. */
export function ulidIds(): Ids {
  const next = monotonicFactory();
  const id = (prefix: string) => () => `${prefix}_${next().toLowerCase()}`;
  return { account: id('acct'), job: id('job'), apiKey: id('key'), voucher: id('vch'), webhookEndpoint: id('whep'), file: id('file') };
}

/** Settings of the scheduled sweeps over non-final jobs. */
export interface SweepSettings {
  /** A job still waiting for capacity this long after submission fails with `infrastructure`, at no charge. */
  runnableTimeoutSeconds: number;
  /** A job the compute side has not known for this long after its last change is failed with `infrastructure`, at no charge. */
  lostJobSeconds: number;
  /** A pool with no demand keeps its nodes this long before its minimum drops (idle p4d nodes are let go). */
  capacityIdleSeconds: number;
}

export const sweepDefaults: SweepSettings = {
  runnableTimeoutSeconds: 6 * 3600,
  lostJobSeconds: 300,
  capacityIdleSeconds: 900,
};

export const sweepSettings = (deps: Pick<Deps, 'sweeps'>): SweepSettings => ({ ...sweepDefaults, ...deps.sweeps });

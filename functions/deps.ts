import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { monotonicFactory } from 'ulidx';
import type { Policy } from '../domain/policy';
import type { TableNames } from '../infra/tables';
import type { Compute, JobFiles } from './adapters/compute';
import type { EventStore } from './adapters/event-store';
import type { WebhookSettings } from './webhooks/settings';

/** Ids for new things. Time-ordered (ULID), so newest-first lists sort by id. */
export interface Ids {
  account(): string;
  job(): string;
  apiKey(): string;
  webhookEndpoint(): string;
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
  files: JobFiles;
  policy: Policy;
  now: () => Date;
  ids: Ids;
  /**
   * The admin key (API.md: from Secrets Manager in AWS, `SX_ADMIN_KEY` or generated locally).
   * Fetched on use so a rotated secret is picked up; implementations may cache it briefly.
   */
  adminKey: () => Promise<string>;
  /** Webhook delivery overrides (the local stack allows loopback receivers; tests speed up retries). @default AWS's */
  webhooks?: Partial<WebhookSettings>;
}

/** ULID-based ids, lower-cased: `job_01jd…`. Monotonic within a process, so ids minted in one ms still sort. */
export function ulidIds(): Ids {
  const next = monotonicFactory();
  const id = (prefix: string) => () => `${prefix}_${next().toLowerCase()}`;
  return { account: id('acct'), job: id('job'), apiKey: id('key'), webhookEndpoint: id('whep') };
}

import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { defaultPolicy, type Policy } from '../domain/policy';
import { priceBookFrom } from '../domain/pricing';
import type { TableNames } from '../infra/tables';
import type { Capacity, Compute, JobFiles } from './adapters/compute';
import { DynamoDbEventStore } from './adapters/dynamodb-event-store';
import type { ObjectStore } from './adapters/object-store';
import { ulidIds, type Deps, type SweepSettings } from './deps';
import type { ServiceSettings } from './env';
import { DynamoDbRequestCounter, type RateLimits } from './http/rate-limits';
import type { WebhookSettings } from './webhooks/settings';

/** What differs between AWS and the local stack: the adapters behind the ports. */
export interface Ports {
  doc: DynamoDBDocumentClient;
  tables: TableNames;
  compute: Compute;
  capacity: Capacity;
  files: JobFiles;
  objects: ObjectStore;
  adminKey: () => Promise<string>;
  webhooks?: Partial<WebhookSettings>;
}

/**
 * The one configuration → dependencies builder, used by Lambda (`aws-deps.ts`) and the local stack
 * (`infra/local/stack.ts`): the rules come from the same {@link ServiceSettings} the same way in
 * both, only the ports differ. Creates no connection and does no I/O.
 */
export function buildDeps(settings: ServiceSettings, ports: Ports, now: () => number = Date.now): Deps {
  return {
    store: new DynamoDbEventStore({ doc: ports.doc, tableName: ports.tables.events, viewsTableName: ports.tables.views }),
    doc: ports.doc,
    tables: ports.tables,
    metricsRetentionDays: settings.SX_METRICS_RETENTION_DAYS,
    compute: ports.compute,
    capacity: ports.capacity,
    files: ports.files,
    objects: ports.objects,
    policy: policyFrom(settings),
    sweeps: sweepsFrom(settings),
    now: () => new Date(now()),
    ids: ulidIds(),
    adminKey: ports.adminKey,
    ...(ports.webhooks ? { webhooks: ports.webhooks } : {}),
    rateLimits: rateLimitsFromSettings(settings),
    requestCounter: new DynamoDbRequestCounter(ports.doc, ports.tables.views),
  };
}

/** The request limits (functions/http/rate-limits.ts) the settings give. */
export function rateLimitsFromSettings(settings: ServiceSettings): RateLimits {
  return {
    perKey: { limit: settings.SX_REQUESTS_PER_KEY_PER_MINUTE, windowSeconds: 60 },
    signupsPerSource: { limit: settings.SX_SIGNUPS_PER_SOURCE_PER_HOUR, windowSeconds: 3600 },
    failedAuthPerSource: { limit: settings.SX_FAILED_AUTH_PER_SOURCE_PER_5_MINUTES, windowSeconds: 300 },
  };
}

/** The policy the settings describe: the defaults, with the stop grace and the A100 price (explicit, or derived at the exchange rate) set. */
export function policyFrom(settings: ServiceSettings): Policy {
  return {
    ...defaultPolicy,
    stopGraceSeconds: settings.SX_STOP_GRACE_SECONDS,
    prices: priceBookFrom({ a100FenPerGpuHour: settings.SX_PRICE_A100, cnyPerUsdE4: settings.SX_CNY_PER_USD }),
  };
}

/** The sweeps' settings. */
export function sweepsFrom(settings: ServiceSettings): SweepSettings {
  return {
    runnableTimeoutSeconds: settings.SX_RUNNABLE_TIMEOUT_SECONDS,
    lostJobSeconds: settings.SX_LOST_JOB_SECONDS,
    capacityIdleSeconds: settings.SX_CAPACITY_IDLE_SECONDS,
  };
}

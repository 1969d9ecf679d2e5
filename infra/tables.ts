/**
 * The DynamoDB tables, defined once and read by both the CDK stack and the local stack, so the two can
 * never disagree on a key name or a stream setting. Plain data on purpose: no SDK or CDK import here.
 * The string values are those of DynamoDB's API (`'S'`, `'NEW_IMAGE'`), which are also the values of
 * CDK's `AttributeType` and `StreamViewType` enums.
 */

/** A key attribute of a table. */
export interface KeyAttribute {
  name: string;
  type: 'S' | 'N' | 'B';
}

/** What a table looks like, independent of where it is deployed. */
export interface TableDefinition {
  /** The suffix of the physical name (`<prefix>-<logicalName>`), and the table's id in the CDK stack. */
  logicalName: string;
  partitionKey: KeyAttribute;
  sortKey: KeyAttribute;
  /** The DynamoDB stream to enable, if any. */
  stream?: 'NEW_IMAGE' | 'NEW_AND_OLD_IMAGES' | 'OLD_IMAGE' | 'KEYS_ONLY';
  /**
   * The attribute (epoch seconds) after which DynamoDB's TTL may delete an item. Deletion lags by up
   * to days, so readers check it themselves; TTL only keeps the table from growing.
   */
  timeToLiveAttribute?: string;
}

/** The physical names of the tables of one deployment (one per region, or one local stack). */
export interface TableNames {
  events: string;
  views: string;
  metrics: string;
}

/**
 * The tables. `events` holds one item per event: `pk` = stream id (`job#<id>`, `account#<id>`, …),
 * `sk` = the event's version zero-padded to 10 digits (so string order is version order); its
 * `NEW_IMAGE` stream feeds the projections. `views` holds the read models, written only by projections.
 * `metrics` holds the points read from jobs' logs (data, not events: nothing is decided from them),
 * `pk` = job id, `sk` = `m#<metric>#<position>`, each item a chunk of one metric's points in log order
 * (functions/job-metrics/metric-store.ts); they expire after the retention period. `pk` = `stream#<log stream>`
 * records which job writes a CloudWatch log stream.
 */
export const tables = {
  events: {
    logicalName: 'events',
    partitionKey: { name: 'pk', type: 'S' },
    sortKey: { name: 'sk', type: 'S' },
    stream: 'NEW_IMAGE',
  },
  views: {
    logicalName: 'views',
    partitionKey: { name: 'pk', type: 'S' },
    sortKey: { name: 'sk', type: 'S' },
    // Idempotency records (functions/http/idempotency.ts) expire after 24 h; webhook delivery logs after 30 days.
    timeToLiveAttribute: 'expiresAt',
  },
  metrics: {
    logicalName: 'metrics',
    partitionKey: { name: 'pk', type: 'S' },
    sortKey: { name: 'sk', type: 'S' },
    // Points are kept for the retention period (SX_METRICS_RETENTION_DAYS) after they were logged.
    timeToLiveAttribute: 'expiresAt',
  },
} as const satisfies Record<keyof TableNames, TableDefinition>;

/**
 * The physical table names for a deployment prefix: `tableNames('sx-local')` →
 * `{ events: 'sx-local-events', views: 'sx-local-views' }`.
 * @throws Error if the prefix would make a name DynamoDB rejects (names are 3–255 chars of `[A-Za-z0-9_.-]`).
 */
export function tableNames(prefix: string): TableNames {
  // 255 minus the longest suffix ('-events'); a short prefix is fine since every suffix adds 6+ chars.
  if (!/^[A-Za-z0-9_.-]{1,248}$/.test(prefix)) {
    throw new Error(`Invalid table name prefix ${JSON.stringify(prefix)}: use 1-248 letters, digits, '_', '.', '-'`);
  }
  return {
    events: `${prefix}-${tables.events.logicalName}`,
    views: `${prefix}-${tables.views.logicalName}`,
    metrics: `${prefix}-${tables.metrics.logicalName}`,
  };
}

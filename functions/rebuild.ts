import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { paginateScan, PutCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoDbEventStore, toStoredEvent, type EventItem } from './adapters/dynamodb-event-store';
import type { StoredEvent } from './adapters/event-store';
import type { Deps } from './deps';
import { projections as allProjections, type Projection } from './views/projections';
import { batchWrite, queryAll } from './adapters/dynamodb';

type RebuildDeps = Pick<Deps, 'doc' | 'tables'> & { now?: () => Date };

/** Where a rebuild is: dropping the old items, reading the event table, or writing the rebuilt items. */
export interface RebuildProgress {
  phase: 'drop' | 'read' | 'write';
  done: number;
  /** An estimate while reading (the table's approximate item count); exact while writing. */
  total: number;
}

export interface RebuildOptions {
  deps: RebuildDeps;
  /** Names of the projections to rebuild. @default all of them */
  only?: readonly string[];
  /** The projections known to the code. @default functions/views/projections.ts's list */
  projections?: readonly Projection[];
  /** Called as work is done (often: throttle the display yourself). */
  onProgress?: (progress: RebuildProgress) => void;
  /** Streams written concurrently. @default 16 */
  concurrency?: number;
}

export interface RebuildResult {
  /** The projections rebuilt, by name. */
  rebuilt: string[];
  /** Views-table items dropped. */
  dropped: number;
  /** Events read (of the streams the rebuilt projections read). */
  events: number;
  streams: number;
  seconds: number;
}

/** The views-table partition holding each projection's stored version (`sk` = its name). Never dropped. */
export const PROJECTION_VERSIONS_PK = 'projection-versions';

/**
 * Drops the items of the chosen projections from the views table and rebuilds them from the event
 * table, then records each one's code version. Order matters for running beside a live stack: the
 * drop comes first and the event scan (strongly consistent) starts after it, so every event appended
 * before the drop is in the scan and every one after it reaches the live consumers, and both sides
 * write through the same version-guarded functions; the newest fold wins whoever writes last. While it
 * runs, the dropped read models are incomplete (lists may miss items); the ledger itself is never
 * read from them, so no decision changes.
 * @throws Error naming the unknown projection if `only` names one; SDK errors (e.g. a missing table)
 *   as they are. A failed rebuild leaves the projections' stored versions as they were, so the next
 *   `npm start` (or run) rebuilds them again.
 */
export async function rebuildProjections(options: RebuildOptions): Promise<RebuildResult> {
  const started = performance.now();
  const known = options.projections ?? allProjections;
  const chosen = selectProjections(known, options.only);
  const { deps } = options;
  const progress = options.onProgress ?? (() => {});
  if (chosen.length === 0) return { rebuilt: [], dropped: 0, events: 0, streams: 0, seconds: 0 };

  const dropped = await dropItems(deps, chosen, progress);

  // Read: every event of the streams the chosen projections read, grouped by stream.
  const estimate = await approximateItemCount(deps, deps.tables.events);
  const streams = await readEventStreams(deps.doc, deps.tables.events, {
    prefixes: [...new Set(chosen.map((p) => p.streamPrefix))],
    onPage: (read) => progress({ phase: 'read', done: read, total: Math.max(read, estimate) }),
  });

  // Write: streams in parallel, each stream's projections in order.
  const queue = [...streams.entries()];
  const events = queue.reduce((sum, [, stream]) => sum + stream.length, 0);
  let written = 0;
  progress({ phase: 'write', done: 0, total: events });
  await Promise.all(
    Array.from({ length: Math.min(options.concurrency ?? 16, queue.length) }, async () => {
      for (let next = queue.shift(); next; next = queue.shift()) {
        const [streamId, stream] = next;
        for (const projection of chosen) {
          if (streamId.startsWith(projection.streamPrefix)) await projection.rebuildStream(deps, streamId, stream);
        }
        written += stream.length;
        progress({ phase: 'write', done: written, total: events });
      }
    }),
  );

  const at = (deps.now ?? (() => new Date()))().toISOString();
  for (const projection of chosen) {
    await deps.doc.send(
      new PutCommand({ TableName: deps.tables.views, Item: { pk: PROJECTION_VERSIONS_PK, sk: projection.name, version: projection.version, rebuiltAt: at } }),
    );
  }
  return { rebuilt: chosen.map((p) => p.name), dropped, events, streams: streams.size, seconds: (performance.now() - started) / 1000 };
}

/**
 * Every event of the event table, or of the streams whose ids start with one of `prefixes`, grouped by
 * stream and in version order (a scan returns a stream's items in no documented order), as the store
 * reads them (old schema versions upcast). One strongly consistent Scan, page by page; `onPage` gets
 * the items read so far. The whole result is held in memory.
 */
export async function readEventStreams(
  doc: Deps['doc'],
  eventsTable: string,
  options: { prefixes?: readonly string[]; onPage?: (itemsRead: number) => void } = {},
): Promise<Map<string, StoredEvent[]>> {
  const streams = new Map<string, StoredEvent[]>();
  let read = 0;
  await scanAll({ doc }, { TableName: eventsTable, ConsistentRead: true }, (items) => {
    for (const item of items) {
      const pk = item.pk as string;
      if (options.prefixes && !options.prefixes.some((prefix) => pk.startsWith(prefix))) continue;
      let stream = streams.get(pk);
      if (!stream) streams.set(pk, (stream = []));
      stream.push(toStoredEvent(item as unknown as EventItem));
    }
    read += items.length;
    options.onPage?.(read);
  });
  for (const stream of streams.values()) stream.sort((a, b) => a.version - b.version);
  return streams;
}

/** The stored version of each projection that has one (by name). */
export async function storedProjectionVersions(deps: Pick<Deps, 'doc' | 'tables'>): Promise<Map<string, string>> {
  const items = await queryAll(deps.doc, {
    TableName: deps.tables.views,
    KeyConditionExpression: 'pk = :pk',
    ExpressionAttributeValues: { ':pk': PROJECTION_VERSIONS_PK },
    ConsistentRead: true,
  });
  return new Map(items.map((item) => [item.sk as string, String(item.version)]));
}

/**
 * The projections whose code version differs from the stored one, or that have none stored yet
 * (a new projection, or a table from before versions were kept).
 */
export async function changedProjections(deps: Pick<Deps, 'doc' | 'tables'>, known: readonly Projection[] = allProjections): Promise<Projection[]> {
  const stored = await storedProjectionVersions(deps);
  return known.filter((p) => stored.get(p.name) !== p.version);
}

/**
 * Rebuilds only the projections whose code version changed ({@link changedProjections}); what
 * `npm start` runs before it takes requests. Nothing changed costs one query.
 * @throws as {@link rebuildProjections}.
 */
export async function rebuildChangedProjections(
  options: Omit<RebuildOptions, 'only'>,
): Promise<RebuildResult> {
  const changed = await changedProjections(options.deps, options.projections);
  return rebuildProjections({ ...options, only: changed.map((p) => p.name) });
}

/**
 * Every projection's items in the views table, by projection name, sorted by key and made comparable
 * (see `Projection.comparable`): for tests and operators to check that a rebuild yields what the
 * live projections wrote (`expect(await readModelSnapshot(live)).toEqual(await readModelSnapshot(rebuilt))`).
 * Strongly consistent reads; the whole table is held in memory, so it is meant for test-sized tables.
 */
export async function readModelSnapshot(
  deps: Pick<Deps, 'doc' | 'tables'>,
  known: readonly Projection[] = allProjections,
): Promise<Record<string, Array<Record<string, unknown>>>> {
  const store = { store: new DynamoDbEventStore({ doc: deps.doc, tableName: deps.tables.events }) };
  const snapshot: Record<string, Array<Record<string, unknown>>> = Object.fromEntries(known.map((p) => [p.name, []]));
  const items: Array<Record<string, unknown>> = [];
  await scanAll(deps, { TableName: deps.tables.views, ConsistentRead: true }, (page) => items.push(...page));
  items.sort((a, b) => compareKeys(a, b));
  for (const item of items) {
    const key = { pk: item.pk as string, sk: item.sk as string };
    for (const projection of known) {
      if (!projection.owns(key)) continue;
      snapshot[projection.name]!.push(projection.comparable ? await projection.comparable(item, store) : item);
    }
  }
  return snapshot;
}

function selectProjections(known: readonly Projection[], only: readonly string[] | undefined): Projection[] {
  if (only === undefined) return [...known];
  const unknown = only.filter((name) => !known.some((p) => p.name === name));
  if (unknown.length > 0) {
    throw new Error(`Unknown projection ${unknown.map((n) => JSON.stringify(n)).join(', ')}: choose from ${known.map((p) => p.name).join(', ')}`);
  }
  return known.filter((p) => only.includes(p.name));
}

/** Deletes every views-table item owned by one of `chosen`, 25 keys per BatchWriteItem. */
async function dropItems(deps: RebuildDeps, chosen: Projection[], progress: (p: RebuildProgress) => void): Promise<number> {
  const keys: Array<{ pk: string; sk: string }> = [];
  await scanAll(deps, { TableName: deps.tables.views, ProjectionExpression: 'pk, sk', ConsistentRead: true }, (items) => {
    for (const item of items) {
      const key = { pk: item.pk as string, sk: item.sk as string };
      if (chosen.some((p) => p.owns(key))) keys.push(key);
    }
  });
  progress({ phase: 'drop', done: 0, total: keys.length });
  for (let i = 0; i < keys.length; i += 25) {
    await batchWrite(deps.doc, deps.tables.views, keys.slice(i, i + 25).map((Key) => ({ DeleteRequest: { Key } })));
    progress({ phase: 'drop', done: Math.min(i + 25, keys.length), total: keys.length });
  }
  return keys.length;
}


/** Every page of a Scan, in turn (the SDK's paginator follows `LastEvaluatedKey`). */
async function scanAll(
  deps: Pick<Deps, 'doc'>,
  input: { TableName: string; ConsistentRead?: boolean; ProjectionExpression?: string },
  onPage: (items: Array<Record<string, unknown>>) => void,
): Promise<void> {
  for await (const page of paginateScan({ client: deps.doc }, input)) onPage(page.Items ?? []);
}

/** DynamoDB's item count (refreshed about every six hours in AWS): only for the progress bar. */
async function approximateItemCount(deps: Pick<Deps, 'doc'>, tableName: string): Promise<number> {
  const { Table } = await deps.doc.send(new DescribeTableCommand({ TableName: tableName }));
  return Table?.ItemCount ?? 0;
}

const compareKeys = (a: Record<string, unknown>, b: Record<string, unknown>) => {
  const [ka, kb] = [`${a.pk}\u0000${a.sk}`, `${b.pk}\u0000${b.sk}`];
  return ka < kb ? -1 : ka > kb ? 1 : 0;
};

import { randomUUID } from 'node:crypto';
import {
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  type DynamoDBDocumentClient,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import {
  assertValidAppends,
  assertValidFromVersion,
  ConcurrencyError,
  type AppendOptions,
  type AppendToStream,
  type EventMetadata,
  type EventStore,
  type ReadStreamResult,
  type StoredEvent,
} from './event-store';
import { currentSchemaVersion, upcast } from '../../events/upcasters';
import { queryAll } from './dynamodb';

/** Digits of the zero-padded version in `sk`: string order must equal numeric order. */
const VERSION_DIGITS = 10;

/** DynamoDB's limit on the items of one `TransactWriteItems`. */
const MAX_TRANSACT_ITEMS = 100;

/** The condition every event write carries: its version slot must still be free. */
const SLOT_IS_FREE = 'attribute_not_exists(pk)';

/**
 * The sort key of a stream's event at `version`: zero-padded to 10 digits so that string order is
 * version order (`versionKey(7)` → `'0000000007'`).
 */
export function versionKey(version: number): string {
  return String(version).padStart(VERSION_DIGITS, '0');
}

/** One event as an item of the `events` table. */
export interface EventItem {
  pk: string;
  sk: string;
  version: number;
  type: string;
  schemaVersion: number;
  data: Record<string, unknown>;
  metadata: EventMetadata;
  at: string;
}

/**
 * The event store on the `events` table (see `infra/tables.ts`): one item per event, `pk` = stream id,
 * `sk` = {@link versionKey}. Every event is written with `attribute_not_exists(pk)` on its version
 * slot, so two writers deciding on the same version can never both succeed and nothing is ever
 * overwritten. A single event in a single stream is one conditional `PutItem`; anything more is one
 * `TransactWriteItems`, so a decision touching several streams lands entirely or not at all.
 *
 * Version checks look at the slot after `expectedVersion`: since versions only grow and have no gaps,
 * "no event at expectedVersion + 1" means "the stream is still at expectedVersion" for any version
 * the caller read. A pure check (`events: []`) has no write to anchor it, so for expectedVersion > 0
 * it also checks that version expectedVersion exists, making it exact even for a version never read.
 *
 * Errors: `ConcurrencyError` for a conditional-check failure or a transaction conflict (naming the
 * streams involved when DynamoDB says which); a plain Error for a malformed request (before any I/O);
 * any other SDK error (throttling after the SDK's own retries, validation, network) is rethrown as is.
 * A conditional put has no idempotency token: if its response is lost and the SDK retries it, the retry
 * fails on the event it just wrote and surfaces as a `ConcurrencyError`; the caller's reload then finds
 * that event in the stream and decides accordingly (transactions carry a token and do not have this).
 */
export class DynamoDbEventStore implements EventStore {
  private readonly doc: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly viewsTableName: string | undefined;

  /** `viewsTableName`: where inline views go (the `views` table); without it an append with views is refused. */
  constructor(options: { doc: DynamoDBDocumentClient; tableName: string; viewsTableName?: string }) {
    this.doc = options.doc;
    this.tableName = options.tableName;
    this.viewsTableName = options.viewsTableName;
  }

  async readStream(streamId: string, fromVersion = 1): Promise<ReadStreamResult> {
    assertValidFromVersion(fromVersion);
    const items = await queryAll(this.doc, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND sk >= :from',
      ExpressionAttributeValues: { ':pk': streamId, ':from': versionKey(fromVersion) },
      ConsistentRead: true,
    });
    const events = items.map((item) => toStoredEvent(item as EventItem));

    const last = events.at(-1);
    if (last !== undefined) return { events, version: last.version };
    if (fromVersion === 1) return { events, version: 0 };
    // Nothing at or after fromVersion: the version is the last one *below* it. Asking for that (rather
    // than the stream's newest) keeps the answer consistent with the empty read if an append lands in
    // between: reporting a newer version with no events would let a caller skip them.
    const below = await this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND sk < :from',
        ExpressionAttributeValues: { ':pk': streamId, ':from': versionKey(fromVersion) },
        ProjectionExpression: 'version',
        ConsistentRead: true,
        ScanIndexForward: false,
        Limit: 1,
      }),
    );
    const version = below.Items?.[0]?.version;
    return { events, version: typeof version === 'number' ? version : 0 };
  }

  async append(appends: AppendToStream[], options: AppendOptions): Promise<void> {
    const inline = options.inline ?? [];
    assertValidAppends(appends, inline);
    if (appends.length === 0) return;
    if (inline.length > 0 && this.viewsTableName === undefined) throw new Error('Cannot append inline views: this event store was made without a views table');
    const metadata = options.metadata ?? {};

    const only = appends.length === 1 && inline.length === 0 ? appends[0] : undefined;
    const onlyEvent = only?.events.length === 1 ? only.events[0] : undefined;
    if (only !== undefined && onlyEvent !== undefined) {
      // The common case (one event, one stream): a plain conditional put costs half a transaction.
      try {
        await this.doc.send(
          new PutCommand({
            TableName: this.tableName,
            Item: toItem(only.streamId, only.expectedVersion + 1, onlyEvent, options.at, metadata),
            ConditionExpression: SLOT_IS_FREE,
          }),
        );
      } catch (error) {
        throw toConcurrencyError(error, [only.streamId]) ?? error;
      }
      return;
    }

    // One entry per transaction item, saying which stream it guards, to name the conflicting streams.
    const items: NonNullable<TransactWriteCommandInput['TransactItems']> = [];
    const itemStreams: string[] = [];
    for (const { streamId, expectedVersion, events } of appends) {
      if (events.length === 0) {
        items.push(this.conditionCheck(streamId, expectedVersion + 1, SLOT_IS_FREE));
        itemStreams.push(streamId);
        if (expectedVersion > 0) {
          items.push(this.conditionCheck(streamId, expectedVersion, 'attribute_exists(pk)'));
          itemStreams.push(streamId);
        }
        continue;
      }
      events.forEach((event, index) => {
        const item = toItem(streamId, expectedVersion + 1 + index, event, options.at, metadata);
        items.push({ Put: { TableName: this.tableName, Item: item, ConditionExpression: SLOT_IS_FREE } });
        itemStreams.push(streamId);
      });
    }
    for (const view of inline) {
      items.push({ Put: { TableName: this.viewsTableName!, Item: view.item, ConditionExpression: SLOT_IS_FREE } });
      itemStreams.push(`${view.pk} ${view.sk}`);
    }
    if (items.length > MAX_TRANSACT_ITEMS) {
      throw new Error(
        `Cannot append atomically: ${items.length} writes and version checks exceed DynamoDB's limit of ${MAX_TRANSACT_ITEMS} per transaction`,
      );
    }
    try {
      // One token for all of the SDK's attempts: if a first attempt landed but its response was lost,
      // DynamoDB answers the retry with success instead of failing it on our own writes.
      await this.doc.send(new TransactWriteCommand({ TransactItems: items, ClientRequestToken: randomUUID() }));
    } catch (error) {
      throw toConcurrencyError(error, itemStreams) ?? error;
    }
  }

  private conditionCheck(streamId: string, version: number, condition: string) {
    return {
      ConditionCheck: {
        TableName: this.tableName,
        Key: { pk: streamId, sk: versionKey(version) },
        ConditionExpression: condition,
      },
    };
  }
}

function toItem(streamId: string, version: number, event: AppendToStream['events'][number], at: string, metadata: EventMetadata): EventItem {
  return {
    pk: streamId,
    sk: versionKey(version),
    version,
    type: event.type,
    schemaVersion: event.schemaVersion ?? currentSchemaVersion(event.type),
    data: event.data,
    metadata,
    at,
  };
}

/** An item as the current code reads it: older schema versions are upcast (events/upcasters.ts). */
export function toStoredEvent(item: EventItem): StoredEvent {
  return upcast({
    streamId: item.pk,
    version: item.version,
    type: item.type,
    schemaVersion: item.schemaVersion,
    data: item.data,
    metadata: item.metadata ?? {},
    at: item.at,
  });
}

/** Cancellation reason codes that mean "another writer got there first": reload and decide again. */
const CONFLICT_CODES = new Set(['ConditionalCheckFailed', 'TransactionConflict']);

/**
 * Maps an SDK error to a ConcurrencyError when it means a version conflict, or returns undefined.
 * Matching on `name` rather than `instanceof` keeps working if two copies of the SDK are loaded.
 * @param itemStreams the stream of each request item, in request order (CancellationReasons' order).
 */
function toConcurrencyError(error: unknown, itemStreams: string[]): ConcurrencyError | undefined {
  if (!(error instanceof Error)) return undefined;
  const all = () => new ConcurrencyError([...new Set(itemStreams)]);
  switch (error.name) {
    case 'ConditionalCheckFailedException':
    // A plain write on an item that a transaction is changing right now.
    case 'TransactionConflictException':
      return all();
    case 'TransactionCanceledException': {
      const reasons = (error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons;
      if (reasons === undefined || reasons.length === 0) {
        // No per-item reasons: fall back on the message, which lists the codes.
        return /ConditionalCheckFailed|TransactionConflict/.test(error.message) ? all() : undefined;
      }
      const conflicting = reasons.flatMap((reason, index) => {
        const streamId = itemStreams[index];
        return reason.Code !== undefined && CONFLICT_CODES.has(reason.Code) && streamId !== undefined ? [streamId] : [];
      });
      return conflicting.length > 0 ? new ConcurrencyError([...new Set(conflicting)]) : undefined;
    }
    default:
      return undefined;
  }
}

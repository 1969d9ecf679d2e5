/**
 * The event store port. Streams are identified by strings such as `job#job_…`; versions start at 1
 * and have no gaps. Adapters: DynamoDB (`dynamodb-event-store.ts`) and in-memory (for unit tests),
 * both checked by one contract suite (`test/support/event-store-contract.ts`).
 */

/** Who or what caused an append; stored with every event. */
export interface EventMetadata {
  correlationId?: string;
  causationId?: string;
  actor?: string;
}

/** An event as the domain produces it. */
export interface NewEvent {
  type: string;
  /** A JSON-like value: plain objects, arrays, strings, finite numbers, booleans, null. */
  data: Record<string, unknown>;
  /** Defaults to 1. Bumped when an event's shape changes; old versions are upcast on read. */
  schemaVersion?: number;
}

/** An event as stored. */
export interface StoredEvent extends Required<NewEvent> {
  streamId: string;
  version: number;
  /** When it was appended (ISO 8601), as given by the caller's clock. */
  at: string;
  /** `{}` when the append gave none. */
  metadata: EventMetadata;
}

/**
 * Events to add to one stream, valid only if the stream is still at `expectedVersion` (0 = new stream).
 * `expectedVersion` must be a version the caller read (versions only grow, so the store checks that
 * nothing was appended after it). With `events: []` this is a pure version check: nothing is written
 * to that stream, but the whole append fails if it moved on.
 */
export interface AppendToStream {
  streamId: string;
  expectedVersion: number;
  events: NewEvent[];
}

/**
 * A view entry written in the same atomic append as the events it shows (an inline projection, as
 * Marten and emmett call it), so that a caller's next read of a list shows what it just created. Only
 * for entries that cannot exist yet, such as the list entry of a stream's first events: it is written
 * on the condition that its key is free, and a taken key fails the whole append (a `ConcurrencyError`).
 * The asynchronous projection writes the same entry later; it must leave an entry of the same version
 * as it is (see `putJobView`).
 */
export interface InlineView {
  /** The views table's key. */
  pk: string;
  sk: string;
  /** The whole entry, key included, exactly as the asynchronous projection would write it. */
  item: Record<string, unknown>;
}

/** What an append carries besides the events: when, who, and the view entries written with them. */
export interface AppendOptions {
  at: string;
  metadata?: EventMetadata;
  inline?: InlineView[];
}

export interface ReadStreamResult {
  /** The events from `fromVersion` on, in version order. */
  events: StoredEvent[];
  /**
   * The stream's current version: 0 for a stream that does not exist. Correct even when `fromVersion`
   * skips events or lies past the end (then `events` is empty and `version` is the last one below it).
   */
  version: number;
}

export interface EventStore {
  /**
   * Reads a stream in version order, from `fromVersion` (inclusive, default 1). Strongly consistent.
   * @throws Error if `fromVersion` is not an integer ≥ 1.
   */
  readStream(streamId: string, fromVersion?: number): Promise<ReadStreamResult>;
  /**
   * Appends to one or more streams atomically: all events are written or none, and with them the
   * `inline` view entries, each only if its key is free. An empty `appends` is a no-op.
   * @throws ConcurrencyError if any stream is not at its expected version (nothing is written).
   * @throws ConcurrencyError if an inline view's key is taken (nothing is written).
   * @throws Error (never retried) if the request is malformed: a stream listed twice, a negative or
   *   fractional version, an inline view listed twice, or more than {@link MAX_EVENTS_PER_APPEND}
   *   events and inline views in all.
   */
  append(appends: AppendToStream[], options: AppendOptions): Promise<void>;
}

/** A stream moved on since it was read. Callers reload and decide again. */
export class ConcurrencyError extends Error {
  override readonly name = 'ConcurrencyError';
  constructor(readonly streamIds: string[]) {
    super(`Concurrent change to ${streamIds.join(', ')}`);
  }
}

/** The most events one append may carry: DynamoDB's `TransactWriteItems` limit of 100 items. */
export const MAX_EVENTS_PER_APPEND = 100;

/**
 * Checks an append request against the rules every adapter shares, so a malformed request fails the
 * same way (a plain Error, before any I/O) whichever store runs it.
 * @throws Error describing the first rule broken.
 */
export function assertValidAppends(appends: AppendToStream[], inline: InlineView[] = []): void {
  const seen = new Set<string>();
  let eventCount = inline.length;
  const views = new Set(inline.map((v) => JSON.stringify([v.pk, v.sk])));
  if (views.size < inline.length) throw new Error('Cannot append: an inline view is listed twice');
  for (const view of inline) {
    if (view.item.pk !== view.pk || view.item.sk !== view.sk) throw new Error(`Cannot append: inline view ${view.pk} ${view.sk} has an item with another key`);
  }
  for (const { streamId, expectedVersion, events } of appends) {
    if (typeof streamId !== 'string' || streamId.length === 0) {
      throw new Error('Cannot append: a stream id is empty');
    }
    // One stream twice would need two writes to the same version slot; DynamoDB rejects that too.
    if (seen.has(streamId)) throw new Error(`Cannot append: stream ${streamId} is listed twice`);
    seen.add(streamId);
    if (!Number.isSafeInteger(expectedVersion) || expectedVersion < 0) {
      throw new Error(`Cannot append to ${streamId}: expectedVersion ${expectedVersion} is not an integer ≥ 0`);
    }
    for (const event of events) {
      if (event.schemaVersion !== undefined && (!Number.isSafeInteger(event.schemaVersion) || event.schemaVersion < 1)) {
        throw new Error(`Cannot append ${event.type} to ${streamId}: schemaVersion must be an integer ≥ 1`);
      }
    }
    eventCount += events.length;
  }
  if (eventCount > MAX_EVENTS_PER_APPEND) {
    throw new Error(
      `Cannot append ${eventCount} events and views at once: at most ${MAX_EVENTS_PER_APPEND} fit in one atomic append (DynamoDB TransactWriteItems limit)`,
    );
  }
}

/**
 * Checks a `readStream` start version.
 * @throws Error if it is not an integer ≥ 1.
 */
export function assertValidFromVersion(fromVersion: number): void {
  if (!Number.isSafeInteger(fromVersion) || fromVersion < 1) {
    throw new Error(`Cannot read from version ${fromVersion}: it must be an integer ≥ 1`);
  }
}

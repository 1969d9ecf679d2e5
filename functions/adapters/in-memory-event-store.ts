import {
  assertValidAppends,
  assertValidFromVersion,
  ConcurrencyError,
  type AppendToStream,
  type EventMetadata,
  type EventStore,
  type ReadStreamResult,
  type StoredEvent,
} from './event-store';
import { currentSchemaVersion, upcast } from '../../events/upcasters';

/**
 * An event store in process memory, for unit tests and benchmarks. Same semantics as the DynamoDB
 * adapter (checked by the same contract suite): atomic multi-stream appends, `ConcurrencyError` when a
 * stream is not at its expected version (checked exactly), the same request validation. Everything is
 * deep-copied on the way in and out, so a caller mutating an event cannot change history; the copy in
 * goes through JSON so that, as in DynamoDB, `undefined` fields vanish and only JSON-like data survives.
 */
export class InMemoryEventStore implements EventStore {
  private readonly streams = new Map<string, StoredEvent[]>();
  private readonly log: StoredEvent[] = [];

  async readStream(streamId: string, fromVersion = 1): Promise<ReadStreamResult> {
    assertValidFromVersion(fromVersion);
    const stream = this.streams.get(streamId) ?? [];
    return { events: structuredClone(stream.slice(fromVersion - 1)).map((stored) => upcast(stored)), version: stream.length };
  }

  async append(appends: AppendToStream[], options: { at: string; metadata?: EventMetadata }): Promise<void> {
    assertValidAppends(appends);
    // Check every stream before writing any: this, with no await in between, is what makes it atomic.
    const conflicting = appends
      .filter(({ streamId, expectedVersion }) => (this.streams.get(streamId)?.length ?? 0) !== expectedVersion)
      .map(({ streamId }) => streamId);
    if (conflicting.length > 0) throw new ConcurrencyError(conflicting);

    const metadata = jsonCopy(options.metadata ?? {});
    for (const { streamId, expectedVersion, events } of appends) {
      if (events.length === 0) continue;
      const stream = this.streams.get(streamId) ?? [];
      this.streams.set(streamId, stream);
      events.forEach((event, index) => {
        const stored: StoredEvent = {
          streamId,
          version: expectedVersion + 1 + index,
          type: event.type,
          schemaVersion: event.schemaVersion ?? currentSchemaVersion(event.type),
          data: jsonCopy(event.data),
          metadata: { ...metadata },
          at: options.at,
        };
        stream.push(stored);
        this.log.push(stored);
      });
    }
  }

  /** Every event of every stream, in append order (copies). For tests. */
  all(): StoredEvent[] {
    return structuredClone(this.log);
  }
}

function jsonCopy<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

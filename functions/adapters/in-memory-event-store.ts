import {
  assertValidAppends,
  assertValidFromVersion,
  ConcurrencyError,
  type AppendOptions,
  type AppendToStream,
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
 * Inline views are kept beside the streams, readable with {@link view}.
 */
export class InMemoryEventStore implements EventStore {
  private readonly streams = new Map<string, StoredEvent[]>();
  private readonly log: StoredEvent[] = [];
  private readonly views = new Map<string, Record<string, unknown>>();

  async readStream(streamId: string, fromVersion = 1): Promise<ReadStreamResult> {
    assertValidFromVersion(fromVersion);
    const stream = this.streams.get(streamId) ?? [];
    return { events: structuredClone(stream.slice(fromVersion - 1)).map((stored) => upcast(stored)), version: stream.length };
  }

  async append(appends: AppendToStream[], options: AppendOptions): Promise<void> {
    const inline = options.inline ?? [];
    assertValidAppends(appends, inline);
    if (appends.length === 0) return;
    // Check every stream and view before writing any: this, with no await in between, is what makes it atomic.
    const conflicting = [
      ...appends.filter(({ streamId, expectedVersion }) => (this.streams.get(streamId)?.length ?? 0) !== expectedVersion).map(({ streamId }) => streamId),
      ...inline.filter((v) => this.views.has(viewKey(v.pk, v.sk))).map((v) => `${v.pk} ${v.sk}`),
    ];
    if (conflicting.length > 0) throw new ConcurrencyError(conflicting);
    for (const view of inline) this.views.set(viewKey(view.pk, view.sk), jsonCopy(view.item));

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

  /** An inline view written with an append (a copy), or undefined. For tests. */
  view(pk: string, sk: string): Record<string, unknown> | undefined {
    const item = this.views.get(viewKey(pk, sk));
    return item === undefined ? undefined : structuredClone(item);
  }

  /** Every event of every stream, in append order (copies). For tests. */
  all(): StoredEvent[] {
    return structuredClone(this.log);
  }
}

const viewKey = (pk: string, sk: string) => JSON.stringify([pk, sk]);

function jsonCopy<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

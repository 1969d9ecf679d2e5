import type { StoredEvent } from '../adapters/event-store';
import type { Aggregate } from '../aggregates/aggregate';
import { foldStored, parseEvent } from '../aggregates/aggregate';
import type { Deps } from '../deps';

/** What a projection writes with. */
export type ViewDeps = Pick<Deps, 'doc' | 'tables'>;
/** What its live side may read too: the event store (a projection of state reads its stream). */
export type LiveViewDeps = ViewDeps & Pick<Deps, 'store'>;

/**
 * A projection whose items in the views table are derived from the event table alone, so they can be
 * dropped and rebuilt at any time (`npm run rebuild`, functions/rebuild.ts). One definition holds
 * both sides: `apply` is what the live stream consumer does with one event (`projectionConsumer` in
 * functions/stream.ts),
 * `rebuildStream` what a rebuild does with one stream's whole history, and a rebuilt stream leaves
 * exactly what the live side leaves after applying every event of it (test/integration/rebuild.test.ts).
 * Define one with {@link stateProjection} or {@link eventProjection}; both sides then share one write.
 */
export interface Projection {
  /** Stable name (kebab-case): the CLI's `--only`, and the key its stored version is kept under. */
  name: string;
  /**
   * The code version. Bump it whenever a change to the projection changes what it writes: `npm start`
   * (and `npm run rebuild --changed`) then rebuilds this projection, and only it.
   */
  version: string;
  /** The event streams it reads, by stream id prefix (`job#`). */
  streamPrefix: string;
  /** Whether a views-table key is one of its items (what a rebuild drops first). */
  owns(key: { pk: string; sk: string }): boolean;
  /** The live side: applies one event of one of its streams, idempotently (a redelivered or reordered event changes nothing). */
  apply(deps: LiveViewDeps, stored: StoredEvent): Promise<void>;
  /** The rebuild side: writes the items one stream's full history (in version order, upcast) yields. */
  rebuildStream(deps: ViewDeps, streamId: string, events: StoredEvent[]): Promise<void>;
  /**
   * Makes an item comparable between a live and a rebuilt table (readModelSnapshot). Identity unless
   * the item legitimately depends on when the live side ran (account snapshots).
   */
  comparable?(item: Record<string, unknown>, deps: Pick<Deps, 'store'>): Promise<Record<string, unknown>>;
}

type Identity = Pick<Projection, 'name' | 'version' | 'owns'>;

/**
 * A projection of a stream's current state: the fold of all its events, written with the stream's
 * version so the write can refuse anything older than what is there. Live, it reads the stream up
 * to its head on each event (a duplicate or reordered record then writes the same item); rebuilt, it
 * folds the history it is given. Either way `write` gets the same state for the same version.
 */
export function stateProjection<S, E>(
  definition: Identity & {
    aggregate: Aggregate<S, E>;
    write(deps: ViewDeps, state: S, version: number): Promise<void>;
    /** States whose write only takes an item out: a rebuild, which starts from a dropped table, skips their write. */
    writesNothingNew?(state: S): boolean;
  },
): Projection {
  const { aggregate, write, writesNothingNew, ...identity } = definition;
  const fold = (events: StoredEvent[]) => ({ state: foldStored(aggregate, events).state, version: events.at(-1)?.version ?? 0 });
  return {
    ...identity,
    streamPrefix: aggregate.streamId(''),
    async apply(deps, stored) {
      const { state, version } = fold((await deps.store.readStream(stored.streamId)).events);
      if (version > 0) await write(deps, state, version);
    },
    async rebuildStream(deps, _streamId, events) {
      const { state, version } = fold(events);
      if (version > 0 && !writesNothingNew?.(state)) await write(deps, state, version);
    },
  };
}

/**
 * A projection of each event on its own (usage lines from settlements, an index of vouchers): live it
 * applies the event it gets; rebuilt, every event of the history in order. `write` must be keyed by
 * what it describes, so applying an event twice changes nothing.
 */
export function eventProjection<S, E>(
  definition: Identity & {
    aggregate: Aggregate<S, E>;
    /** Writes what one event yields; `id` is the stream's id without its prefix (the account id of `account#<id>`). */
    write(deps: ViewDeps, id: string, event: E): Promise<void>;
  },
): Projection {
  const { aggregate, write, ...identity } = definition;
  const streamPrefix = aggregate.streamId('');
  const project = (deps: ViewDeps, stored: StoredEvent) => write(deps, stored.streamId.slice(streamPrefix.length), parseEvent(aggregate, stored));
  return {
    ...identity,
    streamPrefix,
    apply: project,
    async rebuildStream(deps, _streamId, events) {
      for (const stored of events) await project(deps, stored);
    },
  };
}

import type * as z from 'zod';
import type { EventStore, StoredEvent } from '../adapters/event-store';

/**
 * How one kind of stream is named, parsed and folded: the domain's decider (`domain/<aggregate>`)
 * plus the schema its stored events are parsed with. Each kind lives in a module of its own in
 * this directory (`jobs`, `ledger`, `identity`, `webhooks`), imported directly, with no index
 * module: a Lambda bundle then builds the event schemas of only the kinds its code reads. When all
 * kinds shared one module, the authorizer, which reads only API keys, built every job, account
 * and webhook event schema at cold start (BENCHMARKS.md, "Lambda bundles").
 */
export interface Aggregate<S, E> {
  streamId: (id: string) => string;
  schema: z.ZodType<E>;
  initialState: () => S;
  evolve: (state: S, event: E) => S;
}

export interface Loaded<S, E> {
  streamId: string;
  state: S;
  version: number;
  events: Array<{ stored: StoredEvent; event: E }>;
}

/**
 * Parses a stored event with the aggregate's schema. A stored event that does not parse is a
 * defect (a shipped schema was edited without an upcaster) and throws.
 */
export const parseEvent = <S, E>(aggregate: Aggregate<S, E>, stored: StoredEvent): E =>
  aggregate.schema.parse({ type: stored.type, data: stored.data });

/**
 * Parses stored events of one stream (in version order) and folds them onto `state`, the
 * aggregate's initial state unless given (e.g. a snapshot's).
 * @throws when a stored event does not parse (see {@link parseEvent}).
 */
export function foldStored<S, E>(aggregate: Aggregate<S, E>, stored: StoredEvent[], state: S = aggregate.initialState()): { state: S; events: Loaded<S, E>['events'] } {
  const events = stored.map((s) => ({ stored: s, event: parseEvent(aggregate, s) }));
  return { state: fold(aggregate, state, events.map((e) => e.event)), events };
}

/** Reads and folds one aggregate's stream. */
export async function load<S, E>(store: EventStore, aggregate: Aggregate<S, E>, id: string): Promise<Loaded<S, E>> {
  const streamId = aggregate.streamId(id);
  const { events, version } = await store.readStream(streamId);
  return { streamId, ...foldStored(aggregate, events), version };
}

/** Folds a list of new events onto a state (to answer with what was just decided). */
export const fold = <S, E>(aggregate: Aggregate<S, E>, state: S, events: E[]): S =>
  events.reduce(aggregate.evolve, state);

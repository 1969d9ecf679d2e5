import type { EventMetadata, InlineView, NewEvent } from './adapters/event-store';
import { retryOnConflict } from './adapters/with-retry';
import { fold, load, type Aggregate, type Loaded } from './aggregates/aggregate';
import type { Deps } from './deps';
import { loadAccount, type LoadedAccount } from './views/account-snapshots';

/** What deciding a command may read: the event store, the clock, and (for accounts) the snapshots. */
export type CommandDeps = Pick<Deps, 'store' | 'now'> & Partial<Pick<Deps, 'doc' | 'tables'>>;

/** What one attempt of a command sees. Every attempt reads the clock and the streams afresh. */
export interface CommandContext {
  /** The decision's time (ISO 8601): put it on the command, and it is the events' `at`. */
  now: string;
  /** Reads and folds one stream of `aggregate` (strongly consistent). */
  load<S, E>(aggregate: Aggregate<S, E>, id: string): Promise<Loaded<S, E>>;
  /** Reads an account from its latest snapshot plus the events after it (ledger and quotas). */
  loadAccount(accountId: string): Promise<LoadedAccount>;
}

/**
 * Events decided for one stream, to be appended after the version it was loaded at. A write with no
 * events is a pure version check: the whole append fails if that stream moved on.
 */
export interface StreamWrite {
  streamId: string;
  expectedVersion: number;
  events: NewEvent[];
}

/** The writes of one decision and what the caller answers with. */
export interface Decided<R> {
  writes: StreamWrite[];
  /** View entries written in the same append (see {@link InlineView}): a new stream's list entry. */
  inline?: InlineView[];
  result: R;
}

export interface CommandOptions {
  /** Stored with every event appended. */
  metadata?: EventMetadata;
  /** Attempts in all before a conflict is given up on. @default 8 (see retryOnConflict) */
  attempts?: number;
}

/** The write of `events` to a stream as it was loaded. */
export const writeTo = (loaded: { streamId: string; version: number }, events: NewEvent[]): StreamWrite => ({
  streamId: loaded.streamId,
  expectedVersion: loaded.version,
  events,
});

/**
 * The one command handler (emmett's `handleCommand`, for one or several streams): load → decide →
 * append, all of it again on a concurrent change. `decide` loads what it needs through the context,
 * runs the deciders, and returns the writes; they are appended in one atomic append (conditional on
 * every listed stream's version), or not at all when no write has events. Works on any `EventStore`.
 * @returns `decide`'s result, from the attempt whose writes landed.
 * @throws what `decide` throws (domain errors: nothing is written), or the last ConcurrencyError
 *   after `attempts` conflicting attempts.
 */
export async function handleCommands<R>(
  deps: CommandDeps,
  decide: (context: CommandContext) => Promise<Decided<R>>,
  options: CommandOptions = {},
): Promise<R> {
  return retryOnConflict(
    async () => {
      const now = deps.now().toISOString();
      const context: CommandContext = {
        now,
        load: (aggregate, id) => load(deps.store, aggregate, id),
        loadAccount: (accountId) => {
          if (!deps.doc || !deps.tables) throw new Error('Loading an account needs the views table (its snapshots)');
          return loadAccount({ store: deps.store, doc: deps.doc, tables: deps.tables }, accountId);
        },
      };
      const { writes, inline, result } = await decide(context);
      if (writes.some((write) => write.events.length > 0)) {
        await deps.store.append(writes, { at: now, ...(options.metadata ? { metadata: options.metadata } : {}), ...(inline ? { inline } : {}) });
      }
      return result;
    },
    { attempts: options.attempts },
  );
}

/** An aggregate with its decider: one stream per instance. */
export type DecidingAggregate<S, C, E> = Aggregate<S, E> & { decide: (command: C, state: S) => E[] };

/**
 * {@link handleCommands} for a command on one stream (emmett's `handleCommandWithDecider`): loads
 * `id`'s stream, builds the command from the time and the state, decides, appends.
 * @returns the state before and after, the events appended (`[]`: nothing was written) and the command.
 */
export async function handleCommand<S, C, E extends NewEvent>(
  deps: CommandDeps,
  aggregate: DecidingAggregate<S, C, E>,
  id: string,
  makeCommand: (now: string, state: S) => C | Promise<C>,
  options: CommandOptions = {},
): Promise<{ before: S; state: S; events: E[]; command: C }> {
  return handleCommands(
    deps,
    async ({ now, load }) => {
      const loaded = await load(aggregate, id);
      const command = await makeCommand(now, loaded.state);
      const events = aggregate.decide(command, loaded.state);
      return {
        writes: [writeTo({ streamId: aggregate.streamId(id), version: loaded.version }, events)],
        result: { before: loaded.state, state: fold(aggregate, loaded.state, events), events, command },
      };
    },
    options,
  );
}

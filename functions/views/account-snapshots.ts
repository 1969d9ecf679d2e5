import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { ACCOUNT_STATE_VERSION, type AccountState } from '../../domain/ledger/account';
import { evolveQuota, initialQuotaState, QUOTA_STATE_VERSION, type QuotaState } from '../../domain/quotas';
import type { AccountEvent } from '../../events/account-events';
import { foldStored, type Loaded } from '../aggregates/aggregate';
import type { StoredEvent } from '../adapters/event-store';
import { accounts } from '../aggregates/ledger';
import type { Deps } from '../deps';

/** A snapshot is written once the stream has grown this many events past the last one. */
export const SNAPSHOT_EVERY = 100;

/**
 * Account snapshots, in the views table: `pk = snapshot#account#<id>`, `sk = v<ACCOUNT_STATE_VERSION>`,
 * holding the state folded from events 1..`version`. Events never change, so a snapshot is never
 * wrong, only old; a changed `evolveAccount` bumps ACCOUNT_STATE_VERSION and so reads a different key,
 * ignoring every snapshot taken under the old rules.
 */
const keyOf = (accountId: string) => ({ pk: `snapshot#account#${accountId}`, sk: `v${ACCOUNT_STATE_VERSION}.q${QUOTA_STATE_VERSION}` });

/**
 * Both folds of the account stream that decisions need: the ledger and the quotas. They are
 * snapshotted together because a fold of only the events after a snapshot would forget every hold
 * placed before it, and with them the GPUs the quota must count.
 */
export interface AccountSnapshot {
  version: number;
  state: AccountState;
  quotas: QuotaState;
}

type SnapshotDeps = Pick<Deps, 'doc' | 'tables'>;

/** The latest snapshot of an account, or null. */
export async function readAccountSnapshot(deps: SnapshotDeps, accountId: string): Promise<AccountSnapshot | null> {
  const { Item } = await deps.doc.send(new GetCommand({ TableName: deps.tables.views, Key: keyOf(accountId) }));
  return Item ? { version: Item.version as number, state: Item.state as AccountState, quotas: Item.quotas as QuotaState } : null;
}

/** Writes a snapshot unless one at the same or a later version is there (a replay is a no-op). */
export async function writeAccountSnapshot(deps: SnapshotDeps, accountId: string, snapshot: AccountSnapshot): Promise<void> {
  try {
    await deps.doc.send(
      new PutCommand({
        TableName: deps.tables.views,
        Item: { ...keyOf(accountId), kind: 'snapshot', version: snapshot.version, state: snapshot.state, quotas: snapshot.quotas },
        ConditionExpression: 'attribute_not_exists(pk) OR version < :version',
        ExpressionAttributeValues: { ':version': snapshot.version },
      }),
    );
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
  }
}

export type LoadedAccount = Loaded<AccountState, AccountEvent> & { quotas: QuotaState; snapshotVersion: number };

/**
 * Loads an account from its latest snapshot plus the events after it. The tail is read strongly
 * consistently from the event store, so the state (ledger and quotas) is as current as a full fold and
 * `version` is the stream's (what an append must expect). `events` holds only the tail: never fold
 * anything from it alone.
 * @throws when a stored event does not parse (a defect), or on store errors.
 */
export async function loadAccount(deps: SnapshotDeps & Pick<Deps, 'store'>, accountId: string): Promise<LoadedAccount> {
  const snapshot = await readAccountSnapshot(deps, accountId);
  const streamId = accounts.streamId(accountId);
  const { events, version } = await deps.store.readStream(streamId, snapshot ? snapshot.version + 1 : 1);
  return { streamId, ...foldAccount(events, snapshot ?? undefined), version, snapshotVersion: snapshot?.version ?? 0 };
}

/**
 * Folds stored account events (in version order) onto both states a snapshot holds, the ledger and
 * the quotas, starting from `from` (a snapshot) or the initial states: the one fold that live
 * decisions, snapshots and their rebuild check all use.
 * @throws when a stored event does not parse (a defect).
 */
export function foldAccount(stored: StoredEvent[], from?: Pick<AccountSnapshot, 'state' | 'quotas'>) {
  const { state, events } = foldStored(accounts, stored, from?.state);
  const quotas = events.reduce((q, { event }) => evolveQuota(q, event), from?.quotas ?? initialQuotaState());
  return { state, quotas, events };
}

/** Loads the account and, when its tail has grown to {@link SNAPSHOT_EVERY} events or more, snapshots it. */
export async function refreshAccountSnapshot(deps: SnapshotDeps & Pick<Deps, 'store'>, accountId: string, every = SNAPSHOT_EVERY): Promise<void> {
  const loaded = await loadAccount(deps, accountId);
  if (loaded.version - loaded.snapshotVersion >= every) {
    await writeAccountSnapshot(deps, accountId, { version: loaded.version, state: loaded.state, quotas: loaded.quotas });
  }
}

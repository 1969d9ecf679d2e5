import { ACCOUNT_STATE_VERSION } from '../../domain/ledger/account';
import { QUOTA_STATE_VERSION } from '../../domain/quotas';
import { isFinal } from '../../domain/job/job';
import type { StoredEvent } from '../adapters/event-store';
import { foldStored, parseEvent } from '../aggregates/aggregate';
import { jobs } from '../aggregates/jobs';
import { accounts } from '../aggregates/ledger';
import type { Deps } from '../deps';
import { MONTHLY_PK, projectMonthlyVoucher, projectUsage } from '../project-ledger';
import { foldAccount, SNAPSHOT_EVERY, writeAccountSnapshot } from './account-snapshots';
import { putActiveJob } from './active-jobs';
import { putJobView } from './job-views';

type ViewDeps = Pick<Deps, 'doc' | 'tables'>;

/**
 * A projection whose items in the views table are derived from the event table alone, so they can be
 * dropped and rebuilt at any time (`npm run rebuild`, functions/rebuild.ts). Its live side is a stream
 * consumer; `rebuildStream` writes, from one stream's complete history, exactly what the live side
 * leaves after applying every event of it, through the same write functions (and their version guards).
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
  /** Writes the items one stream's full history (in version order, upcast) yields. */
  rebuildStream(deps: ViewDeps, streamId: string, events: StoredEvent[]): Promise<void>;
  /**
   * Makes an item comparable between a live and a rebuilt table (readModelSnapshot). Identity unless
   * the item legitimately depends on when the live side ran (account snapshots).
   */
  comparable?(item: Record<string, unknown>, deps: Pick<Deps, 'store'>): Promise<Record<string, unknown>>;
}

const foldJob = (events: StoredEvent[]) => foldStored(jobs, events).state;
const lastVersion = (events: StoredEvent[]) => events.at(-1)?.version ?? 0;

/** Each account's job list (`account#<id>#jobs` / job id): functions/project-job-views.ts. */
export const jobViews: Projection = {
  name: 'job-views',
  version: '1',
  streamPrefix: 'job#',
  owns: ({ pk }) => pk.startsWith('account#') && pk.endsWith('#jobs'),
  async rebuildStream(deps, _streamId, events) {
    const state = foldJob(events);
    if (state.status !== 'none') await putJobView(deps, state, lastVersion(events));
  },
};

/** The set of non-final jobs (`active-jobs` / job id): functions/track-active-jobs.ts. */
export const activeJobs: Projection = {
  name: 'active-jobs',
  version: '1',
  streamPrefix: 'job#',
  owns: ({ pk }) => pk === 'active-jobs',
  async rebuildStream(deps, _streamId, events) {
    const state = foldJob(events);
    // A final job has no item: after the drop there is nothing to take out.
    if (state.status !== 'none' && !isFinal(state)) await putActiveJob(deps, state, lastVersion(events));
  },
};

/** Usage lines, one per settlement × funding source (`account#<id>#usage`): functions/project-ledger.ts. */
export const usageLines: Projection = {
  name: 'usage-lines',
  version: '1',
  streamPrefix: 'account#',
  owns: ({ pk }) => pk.startsWith('account#') && pk.endsWith('#usage'),
  async rebuildStream(deps, streamId, events) {
    const accountId = streamId.slice('account#'.length);
    for (const stored of events) await projectUsage(deps, accountId, parseEvent(accounts, stored));
  },
};

/** The index of accounts × monthly vouchers the monthly grant walks: functions/project-ledger.ts. */
export const monthlyVouchers: Projection = {
  name: 'monthly-vouchers',
  version: '1',
  streamPrefix: 'account#',
  owns: ({ pk }) => pk === MONTHLY_PK,
  async rebuildStream(deps, streamId, events) {
    const accountId = streamId.slice('account#'.length);
    // A voucher the grant had already let go is put back; its next run lets it go again (a no-op grant).
    for (const stored of events) await projectMonthlyVoucher(deps, accountId, parseEvent(accounts, stored));
  },
};

/**
 * Account snapshots (`snapshot#account#<id>`): a cache of the account fold that decisions start from
 * (functions/views/account-snapshots.ts). The live side snapshots whatever version the stream is at
 * when it runs, so the version of a live snapshot depends on timing; rebuilt, an account with at
 * least {@link SNAPSHOT_EVERY} events gets one at its head. Either is correct if it equals the fold of
 * events 1..version, which is what `comparable` checks instead of the version.
 */
export const accountSnapshots: Projection = {
  name: 'account-snapshots',
  // The state versions are the snapshot's key too: a changed fold both reads a new key and rebuilds.
  version: `v${ACCOUNT_STATE_VERSION}.q${QUOTA_STATE_VERSION}`,
  streamPrefix: 'account#',
  owns: ({ pk }) => pk.startsWith('snapshot#account#'),
  async rebuildStream(deps, streamId, events) {
    const version = lastVersion(events);
    if (version < SNAPSHOT_EVERY) return;
    const { state, quotas } = foldAccount(events);
    await writeAccountSnapshot(deps, streamId.slice('account#'.length), { version, state, quotas });
  },
  async comparable(item, deps) {
    const { events } = await deps.store.readStream(String(item.pk).slice('snapshot#'.length));
    const { state, quotas } = foldAccount(events.filter((e) => e.version <= Number(item.version)));
    const matches = JSON.stringify(canonical({ state, quotas })) === JSON.stringify(canonical({ state: item.state, quotas: item.quotas }));
    return { pk: item.pk, sk: item.sk, kind: item.kind, equalsFoldOfItsEvents: matches };
  },
};

/** Sorted keys and DynamoDB's view of `undefined` (absent), so a stored and a folded value compare equal. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .filter(([, v]) => v !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([k, v]) => [k, canonical(v)]),
    );
  }
  return value;
}

/**
 * Every projection that lives in the views table. What is NOT here is durable state that no event
 * records, which a rebuild never touches: idempotency records, stream checkpoints and dead letters,
 * the webhook delivery log (attempts are observations of the receiver, not events), its lanes,
 * health, retry schedule and cursor, the capacity scaler's state, and the stored projection versions.
 */
export const projections: readonly Projection[] = [jobViews, activeJobs, usageLines, monthlyVouchers, accountSnapshots];

import { ACCOUNT_STATE_VERSION } from '../../domain/ledger/account';
import { QUOTA_STATE_VERSION } from '../../domain/quotas';
import { isFinal } from '../../domain/job/job';
import { jobs } from '../aggregates/jobs';
import { accounts } from '../aggregates/ledger';
import { foldAccount, refreshAccountSnapshot, SNAPSHOT_EVERY, writeAccountSnapshot } from './account-snapshots';
import { putActiveJob } from './active-jobs';
import { adminProjections } from './admin-views';
import { putJobView } from './job-views';
import { MONTHLY_PK, putMonthlyVoucher } from './monthly-vouchers';
import { eventProjection, stateProjection, type Projection } from './projection';
import { putUsageLines, usageLinesOf } from './usage-lines';

export type { Projection } from './projection';

/**
 * Every read model of the views table, each defined once for both its live stream consumer
 * (`projectionConsumer`, in the project-* and track-active-jobs handlers) and `npm run rebuild`.
 */

/** Each account's job list (`account#<id>#jobs` / job id), newest first. */
export const jobViews: Projection = stateProjection({
  name: 'job-views',
  version: '1',
  aggregate: jobs,
  owns: ({ pk }) => pk.startsWith('account#') && pk.endsWith('#jobs'),
  write: async (deps, state, version) => {
    if (state.status !== 'none') await putJobView(deps, state, version);
  },
});

/** The set of non-final jobs (`active-jobs` / job id) the sweeps read: a job leaves it when it is final. */
export const activeJobs: Projection = stateProjection({
  name: 'active-jobs',
  version: '1',
  aggregate: jobs,
  owns: ({ pk }) => pk === 'active-jobs',
  write: async (deps, state, version) => {
    if (state.status !== 'none') await putActiveJob(deps, state, version);
  },
  // A final job's write takes its item out: after the drop there is nothing to take out.
  writesNothingNew: (state) => state.status !== 'none' && isFinal(state),
});

/** Usage lines, one per settlement × funding source (`account#<id>#usage`). */
export const usageLines: Projection = eventProjection({
  name: 'usage-lines',
  version: '1',
  aggregate: accounts,
  owns: ({ pk }) => pk.startsWith('account#') && pk.endsWith('#usage'),
  write: async (deps, accountId, event) => {
    if (event.type === 'HoldSettled') await putUsageLines(deps, accountId, usageLinesOf(event.data, event.data.gpuType ?? 'a100'));
  },
});

/**
 * The index of accounts × monthly vouchers the monthly grant walks. Rebuilt, a voucher the grant
 * had already let go is put back; its next run lets it go again (a no-op grant).
 */
export const monthlyVouchers: Projection = eventProjection({
  name: 'monthly-vouchers',
  version: '1',
  aggregate: accounts,
  owns: ({ pk }) => pk === MONTHLY_PK,
  write: async (deps, accountId, event) => {
    if (event.type === 'CreditGranted' && event.data.recurrence === 'monthly') {
      await putMonthlyVoucher(deps, { accountId, voucherId: event.data.voucherId, expiresAt: event.data.expiresAt });
    }
  },
});

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
  // Live: snapshot once the tail since the last snapshot has grown to SNAPSHOT_EVERY events.
  apply: (deps, stored) => refreshAccountSnapshot(deps, stored.streamId.slice('account#'.length)),
  async rebuildStream(deps, streamId, events) {
    const version = events.at(-1)?.version ?? 0;
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
export const projections: readonly Projection[] = [jobViews, activeJobs, usageLines, monthlyVouchers, accountSnapshots, ...adminProjections];

import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { KnownJobState } from '../../domain/job/job';
import { foldStored } from '../aggregates/aggregate';
import { jobs } from '../aggregates/jobs';
import { accounts, vouchers } from '../aggregates/ledger';
import { queryPage } from '../adapters/dynamodb';
import type { Deps } from '../deps';
import { eventProjection, stateProjection, type Projection, type ViewDeps } from './projection';

/**
 * The operators' read models (API.md, "Operators"): accounts by email, every account's jobs in one
 * list, and the vouchers. Each is a projection of events like any other view, rebuilt by
 * `npm run rebuild`, never written by a route.
 */

/** Accounts by lower-cased email, then id: a prefix search is one Query on `begins_with`, never a scan. */
export const ACCOUNT_EMAILS_PK = 'admin#account-emails';
/** Every account's jobs, newest first (job ids are ULIDs). */
export const ALL_JOBS_PK = 'admin#jobs';
/** Vouchers by id, newest first, with the hash of their code (the stream key) and their counts. */
export const VOUCHERS_PK = 'admin#vouchers';

export const accountEmails: Projection = eventProjection({
  name: 'account-emails',
  version: '1',
  aggregate: accounts,
  owns: ({ pk }) => pk === ACCOUNT_EMAILS_PK,
  write: async (deps, accountId, event) => {
    if (event.type !== 'AccountOpened') return;
    const { email, openedAt } = event.data;
    await deps.doc.send(
      new PutCommand({
        TableName: deps.tables.views,
        Item: { pk: ACCOUNT_EMAILS_PK, sk: `${email.toLowerCase()}#${accountId}`, kind: 'account-email', accountId, email, openedAt },
      }),
    );
  },
});

export const allJobs: Projection = stateProjection({
  name: 'all-jobs',
  version: '1',
  aggregate: jobs,
  owns: ({ pk }) => pk === ALL_JOBS_PK,
  write: async (deps, state, version) => {
    if (state.status === 'none') return;
    await guardedPut(deps, { pk: ALL_JOBS_PK, sk: state.job.jobId, kind: 'job', status: state.status, accountId: state.job.accountId, version, state });
  },
});

/**
 * The voucher list: the fold of each voucher stream, without who redeemed it (a popular code has
 * many redeemers; the count is what a list shows). Keyed by voucher id, holding the stream's code
 * hash so the detail and disable routes can read the stream itself.
 */
export const voucherIndex: Projection = {
  name: 'voucher-index',
  version: '1',
  streamPrefix: vouchers.streamId(''),
  owns: ({ pk }) => pk === VOUCHERS_PK,
  async apply(deps, stored) {
    const { events } = await deps.store.readStream(stored.streamId);
    await writeVoucher(deps, stored.streamId, events);
  },
  rebuildStream: (deps, streamId, events) => writeVoucher(deps, streamId, events),
};

async function writeVoucher(deps: ViewDeps, streamId: string, stored: Parameters<typeof foldStored>[1]): Promise<void> {
  const { state } = foldStored(vouchers, stored);
  if (state.status === 'none') return;
  const { redeemedBy, ...terms } = state;
  await guardedPut(deps, {
    pk: VOUCHERS_PK,
    sk: state.voucherId,
    kind: 'voucher',
    codeHash: streamId.slice(vouchers.streamId('').length),
    version: stored.at(-1)!.version,
    redemptions: Object.keys(redeemedBy).length,
    ...terms,
  });
}

/** A put that refuses anything older than what is there, so a replayed or reordered record is a no-op. */
async function guardedPut(deps: ViewDeps, item: Record<string, unknown> & { version: number }): Promise<void> {
  try {
    await deps.doc.send(
      new PutCommand({
        TableName: deps.tables.views,
        Item: item,
        ConditionExpression: 'attribute_not_exists(pk) OR version < :version',
        ExpressionAttributeValues: { ':version': item.version },
      }),
    );
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
  }
}

/** The operators' projections, in the one stream consumer `project-admin-views`. */
export const adminProjections: readonly Projection[] = [accountEmails, allJobs, voucherIndex];

type ReadDeps = Pick<Deps, 'doc' | 'tables'>;

/**
 * Accounts whose email starts with `prefix` (case-insensitive), in email order, one page: at most
 * `limit` after the sort key `after`, and the key to continue after (null on the last page).
 */
export async function searchAccounts(deps: ReadDeps, options: { prefix: string; limit: number; after?: string }) {
  const prefix = options.prefix.toLowerCase();
  const page = await deps.doc.send(
    new QueryCommand({
      TableName: deps.tables.views,
      KeyConditionExpression: prefix ? 'pk = :pk AND begins_with(sk, :prefix)' : 'pk = :pk',
      ExpressionAttributeValues: { ':pk': ACCOUNT_EMAILS_PK, ...(prefix ? { ':prefix': prefix } : {}) },
      Limit: options.limit + 1,
      ...(options.after ? { ExclusiveStartKey: { pk: ACCOUNT_EMAILS_PK, sk: options.after } } : {}),
    }),
  );
  const items = (page.Items ?? []).slice(0, options.limit);
  const more = (page.Items ?? []).length > options.limit;
  return { accountIds: items.map((i) => i.accountId as string), after: more ? (items.at(-1)!.sk as string) : null };
}

/** One page of every account's jobs, newest first, optionally of one status. */
export async function listAllJobs(deps: ReadDeps, options: { limit: number; after?: string; status?: string }) {
  const { items, after } = await queryPage(deps.doc, { TableName: deps.tables.views, pk: ALL_JOBS_PK, ...options });
  return { jobs: items.map((item) => item.state as KnownJobState), after };
}

/** A voucher as the index holds it. */
export interface VoucherItem {
  voucherId: string;
  codeHash: string;
  status: 'active' | 'disabled';
  amount: number;
  maxRedemptions: number;
  redemptions: number;
  expiresAt: string | null;
  recurrence: 'monthly' | null;
  createdAt: string;
  disabled: { operator: string; reason: string; at: string } | null;
}

/** One page of vouchers, newest first. */
export async function listVouchers(deps: ReadDeps, options: { limit: number; after?: string }) {
  const { items, after } = await queryPage(deps.doc, { TableName: deps.tables.views, pk: VOUCHERS_PK, ...options });
  return { vouchers: items as unknown as VoucherItem[], after };
}

/** The index entry of one voucher, or null. */
export async function findVoucher(deps: ReadDeps, voucherId: string): Promise<VoucherItem | null> {
  const { Item } = await deps.doc.send(new GetCommand({ TableName: deps.tables.views, Key: { pk: VOUCHERS_PK, sk: voucherId } }));
  return (Item as VoucherItem | undefined) ?? null;
}

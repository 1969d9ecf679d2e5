import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { AccountEvent } from '../events/account-events';
import { parseEvent } from './aggregates/aggregate';
import { accounts } from './aggregates/ledger';
import type { Deps } from './deps';
import { lambda } from './lambda';
import { streamConsumer } from './stream';
import { refreshAccountSnapshot } from './views/account-snapshots';
import { putUsageLines, usageLinesOf } from './views/usage-lines';
import { queryAll } from './adapters/dynamodb';

/** The views-table partition listing accounts with a monthly voucher, for the monthly grant schedule. */
export const MONTHLY_PK = 'ledger#monthly-vouchers';

/**
 * Projection of the account streams: usage lines from settlements, the index of monthly vouchers
 * the scheduler walks, and account snapshots. Every write is keyed by what it describes (job ×
 * source, account × voucher, snapshot version), so redelivered or reordered records change nothing.
 */
export const make = (deps: Deps) =>
  streamConsumer('account#', async (stored) => {
    const accountId = stored.streamId.slice('account#'.length);
    const event = parseEvent(accounts, stored);
    await projectUsage(deps, accountId, event);
    await projectMonthlyVoucher(deps, accountId, event);
    await refreshAccountSnapshot(deps, accountId);
  });

/** The usage lines one account event yields: a settlement's, one per funding source; none for other events. */
export async function projectUsage(deps: Pick<Deps, 'doc' | 'tables'>, accountId: string, event: AccountEvent): Promise<void> {
  if (event.type === 'HoldSettled') await putUsageLines(deps, accountId, usageLinesOf(event.data, event.data.gpuType ?? 'a100'));
}

/** Puts a monthly voucher's grant into the index the monthly schedule walks; other events write nothing. */
export async function projectMonthlyVoucher(deps: Pick<Deps, 'doc' | 'tables'>, accountId: string, event: AccountEvent): Promise<void> {
  if (event.type === 'CreditGranted' && event.data.recurrence === 'monthly') {
    await putMonthlyVoucher(deps, { accountId, voucherId: event.data.voucherId, expiresAt: event.data.expiresAt });
  }
}

/** Puts an account × monthly voucher into the index (a replay rewrites the same item). */
export const putMonthlyVoucher = (deps: Pick<Deps, 'doc' | 'tables'>, entry: MonthlyVoucherEntry) =>
  deps.doc.send(
    new PutCommand({
      TableName: deps.tables.views,
      Item: { pk: MONTHLY_PK, sk: `${entry.accountId}#${entry.voucherId}`, kind: 'monthly-voucher', ...entry },
    }),
  );

export interface MonthlyVoucherEntry {
  accountId: string;
  voucherId: string;
  expiresAt: string | null;
}

/** Every account × monthly voucher the projection has seen. */
export async function listMonthlyVouchers(deps: Pick<Deps, 'doc' | 'tables'>): Promise<MonthlyVoucherEntry[]> {
  const items = await queryAll(deps.doc, { TableName: deps.tables.views, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': MONTHLY_PK } });
  return items.map((item) => ({ accountId: item.accountId, voucherId: item.voucherId, expiresAt: item.expiresAt ?? null }));
}

/** Drops a voucher from the monthly index once it can grant no more. */
export const forgetMonthlyVoucher = (deps: Pick<Deps, 'doc' | 'tables'>, entry: MonthlyVoucherEntry) =>
  deps.doc.send(new DeleteCommand({ TableName: deps.tables.views, Key: { pk: MONTHLY_PK, sk: `${entry.accountId}#${entry.voucherId}` } }));

export const handler = lambda(make);

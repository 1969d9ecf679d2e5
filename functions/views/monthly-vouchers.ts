import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Deps } from '../deps';
import { queryAll } from '../adapters/dynamodb';

/** The views-table partition listing accounts with a monthly voucher, for the monthly grant schedule. */
export const MONTHLY_PK = 'ledger#monthly-vouchers';

export interface MonthlyVoucherEntry {
  accountId: string;
  voucherId: string;
  expiresAt: string | null;
}

/** Puts an account × monthly voucher into the index (a replay rewrites the same item). */
export const putMonthlyVoucher = (deps: Pick<Deps, 'doc' | 'tables'>, entry: MonthlyVoucherEntry) =>
  deps.doc.send(
    new PutCommand({
      TableName: deps.tables.views,
      Item: { pk: MONTHLY_PK, sk: `${entry.accountId}#${entry.voucherId}`, kind: 'monthly-voucher', ...entry },
    }),
  );

/** Every account × monthly voucher the projection has seen. */
export async function listMonthlyVouchers(deps: Pick<Deps, 'doc' | 'tables'>): Promise<MonthlyVoucherEntry[]> {
  const items = await queryAll(deps.doc, { TableName: deps.tables.views, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': MONTHLY_PK } });
  return items.map((item) => ({ accountId: item.accountId, voucherId: item.voucherId, expiresAt: item.expiresAt ?? null }));
}

/** Drops a voucher from the monthly index once it can grant no more. */
export const forgetMonthlyVoucher = (deps: Pick<Deps, 'doc' | 'tables'>, entry: MonthlyVoucherEntry) =>
  deps.doc.send(new DeleteCommand({ TableName: deps.tables.views, Key: { pk: MONTHLY_PK, sk: `${entry.accountId}#${entry.voucherId}` } }));

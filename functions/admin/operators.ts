import { load } from '../aggregates/aggregate';
import { fileRegistries } from '../aggregates/files';
import { storageUsed } from '../../domain/files/files';
import type { AdminAccountBody } from '../../events/api/admin';
import { queryAll } from '../adapters/dynamodb';
import type { Deps } from '../deps';
import { headerOf } from '../http/headers';
import { invalidRequest, notFound } from '../http/problem';
import type { ApiEvent } from '../http/route';
import { presentAccount } from '../api/present-ledger';
import { loadAccount } from '../views/account-snapshots';
import { voucherStatus, type VoucherState } from '../../domain/ledger/voucher';
import type { VoucherItem } from '../views/admin-views';

/**
 * The operator making a request, from `X-Operator` (API.md: 1–64 characters, required on the
 * operators' routes).
 * @throws HttpProblem 400 `invalid_request` when it is missing or too long.
 */
export function operatorOf(event: ApiEvent): string {
  const operator = headerOf(event, 'x-operator')?.trim() ?? '';
  if (operator.length < 1 || operator.length > 64) {
    throw invalidRequest('Name the operator in the X-Operator header (1–64 characters)', [{ path: 'X-Operator', message: 'required, 1–64 characters' }]);
  }
  return operator;
}

/** What an operator's events record as their actor. */
export const operatorActor = (operator: string) => `operator:${operator}`;

/** An account id from the path, or 404 for anything that cannot be one. */
export function accountIdOf(event: ApiEvent): string {
  const id = event.pathParameters?.id ?? '';
  if (!/^acct_[0-9a-z]{26}$/.test(id)) throw notFound('No such account');
  return id;
}

const STATUSES = ['queued', 'starting', 'running', 'succeeded', 'failed', 'cancelled'] as const;

/** How many jobs of each status the account has, from its job list (status only, so the read stays small). */
async function jobCounts(deps: Pick<Deps, 'doc' | 'tables'>, accountId: string): Promise<AdminAccountBody['jobs']> {
  const items = await queryAll(deps.doc, {
    TableName: deps.tables.views,
    KeyConditionExpression: 'pk = :pk',
    ExpressionAttributeValues: { ':pk': `account#${accountId}#jobs` },
    ProjectionExpression: '#status',
    ExpressionAttributeNames: { '#status': 'status' },
  });
  const counts = Object.fromEntries(STATUSES.map((s) => [s, 0])) as Record<(typeof STATUSES)[number], number>;
  for (const item of items) if (item.status in counts) counts[item.status as keyof typeof counts]++;
  return { total: items.length, ...counts };
}

/**
 * The account as an operator sees it: what its owner sees (from its events: never stale), its status
 * and suspension, and its jobs by status (from the job list).
 * @throws HttpProblem 404 for an unknown account.
 */
export async function loadAdminAccount(deps: Deps, accountId: string): Promise<AdminAccountBody> {
  const [{ state }, files, jobs] = await Promise.all([loadAccount(deps, accountId), load(deps.store, fileRegistries, accountId), jobCounts(deps, accountId)]);
  if (state.status !== 'open') throw notFound('No such account');
  return {
    ...presentAccount(state, deps.now().toISOString()),
    storage: { used_bytes: storageUsed(files.state), quota_bytes: deps.policy.storageQuotaBytes },
    status: state.suspended ? 'suspended' : 'open',
    suspension: state.suspended,
    jobs,
  };
}

/** A voucher as an operator sees it, from its stream's state or its index entry. */
export function presentVoucher(voucher: Exclude<VoucherState, { status: 'none' }> | VoucherItem, redemptions: number, now: string) {
  return {
    id: voucher.voucherId,
    object: 'voucher' as const,
    amount: { amount: voucher.amount, currency: 'CNY' as const },
    max_redemptions: voucher.maxRedemptions,
    redemptions,
    status: voucherStatus(voucher, now),
    expires_at: voucher.expiresAt,
    recurrence: voucher.recurrence,
    created_at: voucher.createdAt,
    disabled: voucher.disabled ?? null,
  };
}

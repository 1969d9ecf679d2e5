import { load, type Loaded } from '../aggregates/aggregate';
import { vouchers } from '../aggregates/ledger';
import type { VoucherEvent } from '../../events/account-events';
import type { VoucherState } from '../../domain/ledger/voucher';
import type { Deps } from '../deps';
import type { ApiEvent } from '../http/route';
import { notFound } from '../http/problem';
import { findVoucher } from '../views/admin-views';

/**
 * Loads a voucher by its id (the path's `{id}`): the index names its stream, which is then read
 * strongly consistently, so what an operator sees or changes is current.
 * @throws HttpProblem 404 for an unknown voucher (or one the index has not seen yet, a moment after creation).
 */
export async function loadVoucherById(deps: Deps, event: ApiEvent): Promise<{ codeHash: string; loaded: Loaded<VoucherState, VoucherEvent> }> {
  const codeHash = await voucherStreamOf(deps, event);
  const loaded = await load(deps.store, vouchers, codeHash);
  if (loaded.state.status === 'none') throw notFound('No such voucher');
  return { codeHash, loaded };
}

/**
 * The voucher stream's id (its code's hash) for the path's `{id}`, from the index.
 * @throws HttpProblem 404 for an unknown voucher.
 */
export async function voucherStreamOf(deps: Deps, event: ApiEvent): Promise<string> {
  const id = event.pathParameters?.id ?? '';
  const item = /^vch_[0-9a-z]{26}$/.test(id) ? await findVoucher(deps, id) : null;
  if (!item) throw notFound('No such voucher');
  return item.codeHash;
}

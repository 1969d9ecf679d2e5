import { AdminVoucherBody } from '../../events/api/admin';
import { presentVoucher } from '../admin/operators';
import { loadVoucherById } from '../admin/vouchers';
import type { Deps } from '../deps';
import { json, route, type RouteOptions } from '../http/route';
import { lambda } from '../lambda';

export const schemas = { response: AdminVoucherBody };

export const options: RouteOptions = { auth: 'admin' };

/** GET /v1/admin/vouchers/{id}: the voucher from its own stream (never its code). */
export const make = (deps: Deps) =>
  route(deps, options, async ({ event }) => {
    const { state } = (await loadVoucherById(deps, event)).loaded;
    if (state.status === 'none') throw new Error('unreachable');
    return json(200, presentVoucher(state, Object.keys(state.redeemedBy).length, deps.now().toISOString()));
  });

export const handler = lambda(make);

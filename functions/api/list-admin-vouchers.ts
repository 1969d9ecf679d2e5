import { AdminVoucherList, AdminVouchersQuery } from '../../events/api/admin';
import { presentVoucher } from '../admin/operators';
import type { Deps } from '../deps';
import { decodeCursor, encodeCursor } from '../http/cursor';
import { json, parse, route, type RouteOptions } from '../http/route';
import { lambda } from '../lambda';
import { listVouchers } from '../views/admin-views';

export const schemas = { query: AdminVouchersQuery, response: AdminVoucherList };

export const options: RouteOptions = { auth: 'admin' };

/** GET /v1/admin/vouchers: every voucher, newest first, with its redemptions and status (never its code). */
export const make = (deps: Deps) =>
  route(deps, options, async ({ event }) => {
    const query = parse(AdminVouchersQuery, event.queryStringParameters ?? {}, 'query');
    const page = await listVouchers(deps, { limit: query.limit, after: query.cursor ? decodeCursor(query.cursor, /^vch_[0-9a-z]{26}$/) : undefined });
    const now = deps.now().toISOString();
    return json(200, {
      object: 'list',
      data: page.vouchers.map((v) => presentVoucher(v, v.redemptions, now)),
      has_more: page.after !== null,
      next_cursor: page.after ? encodeCursor(page.after) : null,
    });
  });

export const handler = lambda(make);

import { AdminAccountList, AdminAccountsQuery } from '../../events/api/admin';
import { loadAdminAccount } from '../admin/operators';
import type { Deps } from '../deps';
import { decodeCursor, encodeCursor } from '../http/cursor';
import { json, parse, route, type RouteOptions } from '../http/route';
import { lambda } from '../lambda';
import { searchAccounts } from '../views/admin-views';

export const schemas = { query: AdminAccountsQuery, response: AdminAccountList };

export const options: RouteOptions = { auth: 'admin' };

/** GET /v1/admin/accounts?email=: accounts whose email starts with the prefix (case-insensitive), in email order. */
export const make = (deps: Deps) =>
  route(deps, options, async ({ event }) => {
    const query = parse(AdminAccountsQuery, event.queryStringParameters ?? {}, 'query');
    const page = await searchAccounts(deps, {
      prefix: query.email?.trim() ?? '',
      limit: query.limit,
      after: query.cursor ? decodeCursor(query.cursor, /^[^\s]{1,254}#acct_[0-9a-z]{26}$/) : undefined,
    });
    const data = await Promise.all(page.accountIds.map((id) => loadAdminAccount(deps, id)));
    return json(200, { object: 'list', data, has_more: page.after !== null, next_cursor: page.after ? encodeCursor(page.after) : null });
  });

export const handler = lambda(make);

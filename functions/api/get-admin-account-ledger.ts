import { LedgerList, LedgerQuery } from '../../events/api/admin';
import { load } from '../aggregates/aggregate';
import { accounts } from '../aggregates/ledger';
import { accountIdOf } from '../admin/operators';
import { statementOf } from '../admin/statement';
import type { Deps } from '../deps';
import { decodeCursor, encodeCursor } from '../http/cursor';
import { notFound } from '../http/problem';
import { json, parse, route, type RouteOptions } from '../http/route';
import { lambda } from '../lambda';

export const schemas = { query: LedgerQuery, response: LedgerList };

export const options: RouteOptions = { auth: 'admin' };

/**
 * GET /v1/admin/accounts/{id}/ledger: the account's statement, oldest first, read from its own events
 * (each line's balance needs every event before it, so the whole stream is folded for any page).
 */
export const make = (deps: Deps) =>
  route(deps, options, async ({ event }) => {
    const query = parse(LedgerQuery, event.queryStringParameters ?? {}, 'query');
    const { events, state } = await load(deps.store, accounts, accountIdOf(event));
    if (state.status !== 'open') throw notFound('No such account');
    const lines = statementOf(events);
    const start = query.cursor ? Number(decodeCursor(query.cursor, /^\d{1,9}$/)) : 0;
    const data = lines.slice(start, start + query.limit);
    const more = start + query.limit < lines.length;
    return json(200, { object: 'list', data, has_more: more, next_cursor: more ? encodeCursor(String(start + query.limit)) : null });
  });

export const handler = lambda(make);

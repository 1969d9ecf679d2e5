import { ApiKeyList, ListApiKeysQuery } from '../../events/api/api-keys';
import { load } from '../aggregates/aggregate';
import { keyrings } from '../aggregates/identity';
import type { Deps } from '../deps';
import { decodeCursor, encodeCursor } from '../http/cursor';
import { json, parse, route, type RouteOptions } from '../http/route';
import { lambda } from '../lambda';

export const schemas = { query: ListApiKeysQuery, response: ApiKeyList };

export const options: RouteOptions = { auth: 'key' };

/** GET /v1/api-keys: the caller's active keys, newest first, without their secrets. */
export const make = (deps: Deps) =>
  route(deps, options, async ({ event, accountId }) => {
    const query = parse(ListApiKeysQuery, event.queryStringParameters ?? {}, 'query');
    const after = query.cursor ? decodeCursor(query.cursor, /^key_[0-9a-z]{26}$/) : undefined;
    const { state } = await load(deps.store, keyrings, accountId);
    // Key ids are ULIDs: descending id order is newest first, and a cursor is just the last id seen.
    const keys = Object.values(state.keys)
      .sort((a, b) => (a.keyId < b.keyId ? 1 : -1))
      .filter((key) => after === undefined || key.keyId < after);
    const page = keys.slice(0, query.limit);
    return json(200, {
      object: 'list',
      data: page.map((key) => ({ id: key.keyId, object: 'api_key', name: key.name, created_at: key.createdAt })),
      has_more: keys.length > page.length,
      next_cursor: keys.length > page.length ? encodeCursor(page[page.length - 1]!.keyId) : null,
    });
  });

export const handler = lambda(make);

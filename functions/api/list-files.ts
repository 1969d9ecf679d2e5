import { FileList, ListFilesQuery } from '../../events/api/files';
import { load } from '../aggregates/aggregate';
import { fileRegistries } from '../aggregates/files';
import type { Deps } from '../deps';
import { decodeCursor, encodeCursor } from '../http/cursor';
import { json, parse, route, type RouteOptions } from '../http/route';
import { lambda } from '../lambda';
import { presentFile } from './file-route';

export const schemas = { query: ListFilesQuery, response: FileList };

export const options: RouteOptions = { auth: 'key' };

/** GET /v1/files: the caller's files, newest first (`?purpose=`), read from the account's files stream. */
export const make = (deps: Deps) =>
  route(deps, options, async ({ event, accountId }) => {
    const query = parse(ListFilesQuery, event.queryStringParameters ?? {}, 'query');
    const after = query.cursor ? decodeCursor(query.cursor, /^file_[0-9a-z]{26}$/) : undefined;
    const { state } = await load(deps.store, fileRegistries, accountId);
    const matching = Object.values(state.files)
      .filter((f) => f.status !== 'deleted' && (!query.purpose || f.purpose === query.purpose) && (after === undefined || f.fileId < after))
      .sort((a, b) => (a.fileId < b.fileId ? 1 : -1));
    const page = matching.slice(0, query.limit);
    const hasMore = matching.length > page.length;
    return json(200, { object: 'list', data: page.map(presentFile), has_more: hasMore, next_cursor: hasMore ? encodeCursor(page.at(-1)!.fileId) : null });
  });

export const handler = lambda(make);

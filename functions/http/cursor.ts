import { invalidRequest } from './problem';

/**
 * Opaque list cursors (API.md: `?cursor=` from `next_cursor`): the sort key to continue after,
 * base64url-encoded. Lists are always queried within the caller's own partition, so a cursor of
 * another account's can only point into the caller's own items.
 */
export const encodeCursor = (after: string) => Buffer.from(JSON.stringify({ after }), 'utf8').toString('base64url');

/**
 * The sort key a cursor carries, if it has the shape of the list's ids.
 * @throws HttpProblem 400 `invalid_request` for anything this API did not hand out.
 */
export function decodeCursor(cursor: string, id: RegExp): string {
  try {
    const { after } = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { after?: unknown };
    if (typeof after === 'string' && id.test(after)) return after;
  } catch {
    // fall through: any undecodable cursor is the same client error
  }
  throw invalidRequest('The cursor is not one this API returned', [{ path: 'cursor', message: 'invalid cursor' }]);
}

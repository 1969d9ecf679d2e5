import type { Deps } from '../deps';
import { notFound } from '../http/problem';
import { route, type RouteOptions } from '../http/route';
import { lambda } from '../lambda';
import { runKeyCommand } from './api-key-commands';

/** No body either way: 204 on success. */
export const schemas = { status: 204 };

export const options: RouteOptions = { auth: 'key' };

/**
 * DELETE /v1/api-keys/{id}: revokes one of the caller's keys. The next request with it is 401: every
 * request reads the key's stream, so there is no cache to wait for. Revoking a revoked key is 204
 * again; another account's key is 404; the account's last active key is 409 `invalid_state`.
 */
export const make = (deps: Deps) =>
  route(deps, options, async ({ event, accountId }) => {
    const keyId = event.pathParameters?.id ?? '';
    if (!/^key_[0-9a-z]{26}$/.test(keyId)) throw notFound(`No API key ${keyId}`);
    await runKeyCommand(deps, accountId, keyId, (now) => ({ type: 'RevokeKey', data: { keyId, accountId }, metadata: { now } }));
    return { statusCode: 204, headers: {} };
  });

export const handler = lambda(make);

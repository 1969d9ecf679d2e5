import { AccountBody } from '../../events/api/accounts';
import { storageUsed } from '../../domain/files/files';
import { load } from '../aggregates/aggregate';
import { fileRegistries } from '../aggregates/files';
import type { Deps } from '../deps';
import { notFound } from '../http/problem';
import { json, route, type RouteOptions } from '../http/route';
import { lambda } from '../lambda';
import { loadAccount } from '../views/account-snapshots';
import { presentAccount } from './present-ledger';

/** GET /v1/account: the trial, credits, what is held for running jobs and the storage used (read from the streams: never stale). */
export const schemas = { response: AccountBody };

export const options: RouteOptions = { auth: 'key' };

export const make = (deps: Deps) =>
  route(deps, options, async ({ accountId }) => {
    const [{ state }, files] = await Promise.all([loadAccount(deps, accountId), load(deps.store, fileRegistries, accountId)]);
    if (state.status !== 'open') throw notFound('No such account');
    const storage = { used_bytes: storageUsed(files.state), quota_bytes: deps.policy.storageQuotaBytes };
    return json(200, { ...presentAccount(state, deps.now().toISOString()), storage });
  });

export const handler = lambda(make);

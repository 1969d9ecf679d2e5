import { AccountBody } from '../../events/api/accounts';
import type { Deps } from '../deps';
import { notFound } from '../http/problem';
import { json, route, type RouteOptions } from '../http/route';
import { lambda } from '../lambda';
import { loadAccount } from '../views/account-snapshots';
import { presentAccount } from './present-ledger';

/** GET /v1/account: the trial, credits and what is held for running jobs (read from the stream: never stale). */
export const schemas = { response: AccountBody };

export const options: RouteOptions = { auth: 'key' };

export const make = (deps: Deps) =>
  route(deps, options, async ({ accountId }) => {
    const { state } = await loadAccount(deps, accountId);
    if (state.status !== 'open') throw notFound('No such account');
    return json(200, presentAccount(state, deps.now().toISOString()));
  });

export const handler = lambda(make);

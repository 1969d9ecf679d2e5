import { AdminAccountBody } from '../../events/api/admin';
import { accountIdOf, loadAdminAccount } from '../admin/operators';
import type { Deps } from '../deps';
import { json, route, type RouteOptions } from '../http/route';
import { lambda } from '../lambda';

export const schemas = { response: AdminAccountBody };

export const options: RouteOptions = { auth: 'admin' };

/** GET /v1/admin/accounts/{id}: the account as its owner sees it, plus status, suspension and job counts. */
export const make = (deps: Deps) =>
  route(deps, options, async ({ event }) => json(200, await loadAdminAccount(deps, accountIdOf(event))));

export const handler = lambda(make);

import { AdminAccountBody, ReasonRequest } from '../../events/api/admin';
import { accountIdOf, loadAdminAccount, operatorOf } from '../admin/operators';
import { changeSuspension } from '../admin/suspension';
import type { Deps } from '../deps';
import { json, parse, route, type RouteOptions } from '../http/route';
import { lambda } from '../lambda';

export const schemas = { body: ReasonRequest, response: AdminAccountBody };

export const options: RouteOptions = { auth: 'admin' };

/** POST /v1/admin/accounts/{id}/reactivate: the keys work again at once; cancelled jobs stay cancelled. */
export const make = (deps: Deps) =>
  route(deps, options, async ({ event, body }) => {
    const operator = operatorOf(event);
    const { reason } = parse(ReasonRequest, body);
    const accountId = accountIdOf(event);
    await changeSuspension(deps, accountId, { type: 'ReactivateAccount', data: { operator, reason } });
    return json(200, await loadAdminAccount(deps, accountId));
  });

export const handler = lambda(make);

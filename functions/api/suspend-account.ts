import { AdminAccountBody, ReasonRequest } from '../../events/api/admin';
import { accountIdOf, loadAdminAccount, operatorOf } from '../admin/operators';
import { changeSuspension } from '../admin/suspension';
import type { Deps } from '../deps';
import { json, parse, route, type RouteOptions } from '../http/route';
import { lambda } from '../lambda';

export const schemas = { body: ReasonRequest, response: AdminAccountBody };

export const options: RouteOptions = { auth: 'admin' };

/**
 * POST /v1/admin/accounts/{id}/suspend: from now on the account's keys get 403 `account_suspended` and
 * it starts no job; its queued jobs are cancelled at once and its running ones stopped (SIGTERM, then
 * the grace) and settled as a cancel is. Suspending a suspended account cancels what is left, nothing more.
 */
export const make = (deps: Deps) =>
  route(deps, options, async ({ event, body }) => {
    const operator = operatorOf(event);
    const { reason } = parse(ReasonRequest, body);
    const accountId = accountIdOf(event);
    await changeSuspension(deps, accountId, { type: 'SuspendAccount', data: { operator, reason } });
    return json(200, await loadAdminAccount(deps, accountId));
  });

export const handler = lambda(make);

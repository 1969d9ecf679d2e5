import { AdminVoucherBody, ReasonRequest } from '../../events/api/admin';
import { vouchers } from '../aggregates/ledger';
import { operatorActor, operatorOf, presentVoucher } from '../admin/operators';
import { voucherStreamOf } from '../admin/vouchers';
import { handleCommand } from '../command-handler';
import type { Deps } from '../deps';
import { notFound } from '../http/problem';
import { json, parse, route, type RouteOptions } from '../http/route';
import { lambda } from '../lambda';

export const schemas = { body: ReasonRequest, response: AdminVoucherBody };

export const options: RouteOptions = { auth: 'admin' };

/**
 * POST /v1/admin/vouchers/{id}/disable: no redemption from now on, and no monthly credit for a month
 * that begins after now. Credits already granted stay, this month's included. Disabling twice changes nothing.
 */
export const make = (deps: Deps) =>
  route(deps, options, async ({ event, body }) => {
    const operator = operatorOf(event);
    const { reason } = parse(ReasonRequest, body);
    const codeHash = await voucherStreamOf(deps, event);
    // Redemptions append to the same stream: more room for conflicts than a one-customer stream needs.
    const { state } = await handleCommand(
      deps,
      vouchers,
      codeHash,
      (now) => ({ type: 'DisableVoucher' as const, data: { operator, reason }, metadata: { now } }),
      { metadata: { actor: operatorActor(operator) }, attempts: 16 },
    );
    if (state.status === 'none') throw notFound('No such voucher');
    return json(200, presentVoucher(state, Object.keys(state.redeemedBy).length, deps.now().toISOString()));
  });

export const handler = lambda(make);

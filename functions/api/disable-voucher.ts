import { decideVoucher } from '../../domain/ledger/voucher';
import { AdminVoucherBody, ReasonRequest } from '../../events/api/admin';
import { fold } from '../aggregates/aggregate';
import { vouchers } from '../aggregates/ledger';
import { operatorActor, operatorOf, presentVoucher } from '../admin/operators';
import { loadVoucherById } from '../admin/vouchers';
import { retryOnConflict } from '../adapters/with-retry';
import type { Deps } from '../deps';
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
    const state = await retryOnConflict(async () => {
      const { codeHash, loaded } = await loadVoucherById(deps, event);
      const now = deps.now().toISOString();
      const events = decideVoucher({ type: 'DisableVoucher', data: { operator, reason }, metadata: { now } }, loaded.state);
      if (events.length > 0) {
        await deps.store.append([{ streamId: vouchers.streamId(codeHash), expectedVersion: loaded.version, events }], { at: now, metadata: { actor: operatorActor(operator) } });
      }
      return fold(vouchers, loaded.state, events);
    }, { attempts: 16 });
    if (state.status === 'none') throw new Error('unreachable');
    return json(200, presentVoucher(state, Object.keys(state.redeemedBy).length, deps.now().toISOString()));
  });

export const handler = lambda(make);

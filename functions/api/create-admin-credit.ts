import { decideLedger } from '../../domain/ledger/decide';
import { CreateAdjustmentRequest } from '../../events/api/admin';
import { CreditBody } from '../../events/api/vouchers';
import { fold } from '../aggregates/aggregate';
import { accounts } from '../aggregates/ledger';
import { accountIdOf, operatorActor, operatorOf } from '../admin/operators';
import { handleCommands, writeTo } from '../command-handler';
import type { Deps } from '../deps';
import { invalidRequest, notFound } from '../http/problem';
import { json, parse, route, type RouteOptions } from '../http/route';
import { lambda } from '../lambda';
import { presentCredit } from './present-ledger';

export const schemas = { body: CreateAdjustmentRequest, response: CreditBody, status: 201 };

export const options: RouteOptions = { auth: 'admin', idempotent: true };

/**
 * POST /v1/admin/accounts/{id}/credits: a goodwill or refund credit, naming the operator and reason.
 * The customer sees it in `credits` with `source: "adjustment"` and gets `credit.added`.
 */
export const make = (deps: Deps) =>
  route(deps, options, async ({ event, body }) => {
    const operator = operatorOf(event);
    const request = parse(CreateAdjustmentRequest, body);
    const accountId = accountIdOf(event);
    const now = deps.now().toISOString();
    const expiresAt = request.expires_at ? new Date(request.expires_at).toISOString() : null;
    if (expiresAt !== null && Date.parse(expiresAt) <= Date.parse(now)) {
      throw invalidRequest('expires_at must be in the future', [{ path: 'expires_at', message: 'must be in the future' }]);
    }
    const creditId = `cred_adj_${deps.ids.voucher().slice('vch_'.length)}`;
    const credit = await handleCommands(
      deps,
      async ({ now: at, loadAccount }) => {
        const account = await loadAccount(accountId);
        if (account.state.status !== 'open') throw notFound('No such account');
        const events = decideLedger(
          { type: 'GrantAdjustment', data: { creditId, amount: request.amount.amount, expiresAt, operator, reason: request.reason }, metadata: { now: at, policy: deps.policy } },
          account.state,
        );
        const after = fold(accounts, account.state, events);
        if (after.status !== 'open') throw notFound('No such account');
        return { writes: [writeTo(account, events)], result: presentCredit(after.credits[creditId]!, null) };
      },
      { metadata: { actor: operatorActor(operator) } },
    );
    return json(201, credit);
  });

export const handler = lambda(make);

import { AccountBody } from '../../events/api/accounts';
import { heldTrialGpuSeconds } from '../../domain/ledger/account';
import { accounts, load } from '../aggregates';
import type { Deps } from '../deps';
import { notFound } from '../http/problem';
import { json, route, type RouteOptions } from '../http/route';
import { lambda } from '../lambda';

/** GET /v1/account: the trial, credits and what is held for running jobs. */
export const schemas = { response: AccountBody };

export const options: RouteOptions = { auth: 'key' };

export const make = (deps: Deps) =>
  route(deps, options, async ({ accountId }) => {
    const { state } = await load(deps.store, accounts, accountId);
    if (state.status !== 'open') throw notFound('No such account');
    const held = heldTrialGpuSeconds(state);
    return json(200, {
      id: state.accountId,
      object: 'account',
      email: state.email,
      created_at: state.openedAt,
      trial: {
        gpu_type: state.trial.gpuType,
        gpu_seconds_granted: state.trial.granted,
        gpu_seconds_remaining: state.trial.remaining,
        gpu_seconds_used: state.trial.charged,
      },
      credits: [],
      held: { gpu_seconds: held, amount: { amount: 0, currency: 'CNY' } },
    });
  });

export const handler = lambda(make);

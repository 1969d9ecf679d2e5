import { WebhookEndpointList } from '../../events/api/webhooks';
import { load } from '../aggregates/aggregate';
import { webhookRegistries } from '../aggregates/webhooks';
import type { Deps } from '../deps';
import { json, route, type RouteOptions } from '../http/route';
import { lambda } from '../lambda';
import { presentEndpoint } from './webhook-route';

export const schemas = { response: WebhookEndpointList };

export const options: RouteOptions = { auth: 'key' };

/**
 * GET /v1/webhook-endpoints: the caller's endpoints, newest first, read from the account's webhook
 * stream (strongly consistent; an account has at most 16, so one page holds them all).
 */
export const make = (deps: Deps) =>
  route(deps, options, async ({ accountId }) => {
    const { state } = await load(deps.store, webhookRegistries, accountId);
    const now = deps.now();
    const data = Object.values(state.endpoints)
      .filter((e) => e.status !== 'deleted')
      .sort((a, b) => (a.endpointId < b.endpointId ? 1 : -1))
      .map((e) => presentEndpoint(e, now));
    return json(200, { object: 'list', data, has_more: false, next_cursor: null });
  });

export const handler = lambda(make);

import type { Deps } from '../deps';
import { route, type RouteOptions } from '../http/route';
import { lambda } from '../lambda';
import { runWebhookCommand } from '../webhooks/commands';
import { loadOwnEndpoint } from './webhook-route';

export const schemas = { status: 204 };

export const options: RouteOptions = { auth: 'key' };

/** DELETE /v1/webhook-endpoints/{id}: no more deliveries to it; pending ones are given up. 204. */
export const make = (deps: Deps) =>
  route(deps, options, async (request) => {
    const endpoint = await loadOwnEndpoint(deps, request);
    await runWebhookCommand(deps, request.accountId, (now) => ({ type: 'DeleteEndpoint', data: { endpointId: endpoint.endpointId }, metadata: { now } }), {
      actor: request.accountId,
    });
    return { statusCode: 204, headers: {}, body: '' };
  });

export const handler = lambda(make);

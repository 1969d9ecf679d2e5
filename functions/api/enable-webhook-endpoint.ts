import { WebhookEndpointBody } from '../../events/api/webhooks';
import type { Deps } from '../deps';
import { json, route, type RouteOptions } from '../http/route';
import { lambda } from '../lambda';
import { runWebhookCommand } from '../webhooks/commands';
import { loadOwnEndpoint, presentEndpoint } from './webhook-route';

export const schemas = { response: WebhookEndpointBody };

export const options: RouteOptions = { auth: 'key' };

/**
 * POST /v1/webhook-endpoints/{id}/enable: resumes deliveries to an endpoint that was disabled (410
 * Gone, or failing for days). Deliveries given up meanwhile can be retried one by one.
 */
export const make = (deps: Deps) =>
  route(deps, options, async (request) => {
    const endpoint = await loadOwnEndpoint(deps, request);
    const state = await runWebhookCommand(deps, request.accountId, (now) => ({ type: 'EnableEndpoint', data: { endpointId: endpoint.endpointId }, metadata: { now } }), {
      actor: request.accountId,
    });
    return json(200, presentEndpoint(state.endpoints[endpoint.endpointId]!, deps.now()));
  });

export const handler = lambda(make);

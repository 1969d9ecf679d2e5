import { WebhookEndpointBody } from '../../events/api/webhooks';
import type { Deps } from '../deps';
import { json, route, type RouteOptions } from '../http/route';
import { lambda } from '../lambda';
import { loadOwnEndpoint, presentEndpoint } from './webhook-route';

export const schemas = { response: WebhookEndpointBody };

export const options: RouteOptions = { auth: 'key' };

/** GET /v1/webhook-endpoints/{id}: one endpoint (its status shows whether it was disabled, and why). */
export const make = (deps: Deps) =>
  route(deps, options, async (request) => json(200, presentEndpoint(await loadOwnEndpoint(deps, request), deps.now())));

export const handler = lambda(make);

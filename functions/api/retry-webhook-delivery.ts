import { WebhookDeliveryBody } from '../../events/api/webhooks';
import type { Deps } from '../deps';
import { HttpProblem, notFound } from '../http/problem';
import { json, route, type RouteOptions } from '../http/route';
import { lambda } from '../lambda';
import { getDelivery, makeDueNow, WEBHOOK_ID } from '../webhooks/deliveries';
import { loadOwnEndpoint, presentDelivery } from './webhook-route';

export const schemas = { response: WebhookDeliveryBody, status: 202 };

export const options: RouteOptions = { auth: 'key' };

/**
 * POST /v1/webhook-endpoints/{id}/deliveries/{delivery_id}/retry: sends a delivery again (the same
 * `webhook-id` and body), whatever its status, as soon as the sender next runs. 202 with the delivery.
 * A manual retry counts as an attempt. 409 `invalid_state` while the endpoint is disabled (enable it
 * first) or while an attempt is in flight.
 */
export const make = (deps: Deps) =>
  route(deps, options, async (request) => {
    const endpoint = await loadOwnEndpoint(deps, request);
    const deliveryId = request.event.pathParameters?.delivery_id ?? '';
    if (!WEBHOOK_ID.test(deliveryId)) throw notFound(`No delivery ${deliveryId}`);
    if (!(await getDelivery(deps, endpoint.endpointId, deliveryId))) throw notFound(`No delivery ${deliveryId}`);
    if (endpoint.status !== 'enabled') {
      throw new HttpProblem(409, 'invalid_state', 'Invalid state', 'The endpoint is disabled: enable it before retrying deliveries');
    }
    if (!(await makeDueNow(deps, endpoint.endpointId, deliveryId, deps.now().toISOString()))) {
      throw new HttpProblem(409, 'invalid_state', 'Invalid state', 'An attempt of this delivery is in flight; retry when it has finished');
    }
    return json(202, presentDelivery((await getDelivery(deps, endpoint.endpointId, deliveryId))!));
  });

export const handler = lambda(make);

import { ListWebhookDeliveriesQuery, WebhookDeliveryList } from '../../events/api/webhooks';
import type { Deps } from '../deps';
import { decodeCursor, encodeCursor } from '../http/cursor';
import { json, parse, route, type RouteOptions } from '../http/route';
import { lambda } from '../lambda';
import { listDeliveries, WEBHOOK_ID } from '../webhooks/deliveries';
import { loadOwnEndpoint, presentDelivery } from './webhook-route';

export const schemas = { query: ListWebhookDeliveriesQuery, response: WebhookDeliveryList };

export const options: RouteOptions = { auth: 'key' };

/**
 * GET /v1/webhook-endpoints/{id}/deliveries: the endpoint's delivery log, newest first: each event sent
 * (or being sent) with every attempt's status code, duration and error, and the next retry.
 */
export const make = (deps: Deps) =>
  route(deps, options, async (request) => {
    const query = parse(ListWebhookDeliveriesQuery, request.event.queryStringParameters ?? {}, 'query');
    const endpoint = await loadOwnEndpoint(deps, request);
    const page = await listDeliveries(deps, endpoint.endpointId, {
      limit: query.limit,
      after: query.cursor ? decodeCursor(query.cursor, WEBHOOK_ID) : undefined,
      status: query.status,
    });
    return json(200, {
      object: 'list',
      data: page.deliveries.map(presentDelivery),
      has_more: page.after !== null,
      next_cursor: page.after ? encodeCursor(page.after) : null,
    });
  });

export const handler = lambda(make);

import { randomBytes } from 'node:crypto';
import type { EndpointState } from '../../domain/webhooks/endpoints';
import type { WebhookDeliveryBody, WebhookEndpointBody } from '../../events/api/webhooks';
import { WebhookEndpointId } from '../../events/webhook-events';
import { load } from '../aggregates/aggregate';
import { webhookRegistries } from '../aggregates/webhooks';
import type { Deps } from '../deps';
import { notFound } from '../http/problem';
import type { ApiRequest } from '../http/route';
import type { Delivery } from '../webhooks/deliveries';

/** A new endpoint secret: `whsec_` + 32 random bytes in base64, as Standard Webhooks secrets are. */
export const newWebhookSecret = () => `whsec_${randomBytes(32).toString('base64')}`;

/**
 * Loads the endpoint named by the `{id}` path parameter from the caller's own registry.
 * @throws HttpProblem 404 for a malformed id, an unknown or deleted endpoint, or another account's (same answer).
 */
export async function loadOwnEndpoint(deps: Deps, request: ApiRequest): Promise<EndpointState> {
  const id = request.event.pathParameters?.id ?? '';
  if (!WebhookEndpointId.safeParse(id).success) throw notFound(`No webhook endpoint ${id}`);
  const { state } = await load(deps.store, webhookRegistries, request.accountId);
  const endpoint = state.endpoints[id];
  if (!endpoint || endpoint.status === 'deleted') throw notFound(`No webhook endpoint ${id}`);
  return endpoint;
}

export function presentEndpoint(endpoint: EndpointState, now: Date): WebhookEndpointBody {
  const previous = endpoint.secrets[1];
  return {
    id: endpoint.endpointId,
    object: 'webhook_endpoint',
    url: endpoint.url,
    // Recorded from a request validated against WebhookEventType: the stream holds only its values.
    events: (endpoint.events ?? ['*']) as WebhookEndpointBody['events'],
    description: endpoint.description,
    status: endpoint.status === 'disabled' ? 'disabled' : 'enabled',
    disabled_reason: endpoint.disabledReason,
    disabled_at: endpoint.disabledAt,
    created_at: endpoint.createdAt,
    previous_secret_expires_at: previous?.expiresAt && previous.expiresAt > now.toISOString() ? previous.expiresAt : null,
  };
}

export function presentDelivery(delivery: Delivery): WebhookDeliveryBody {
  return {
    id: delivery.webhookId,
    object: 'webhook_delivery',
    endpoint_id: delivery.endpointId,
    event_id: delivery.eventId,
    event_type: delivery.eventType as WebhookDeliveryBody['event_type'],
    status: delivery.status,
    created_at: delivery.createdAt,
    attempt_count: delivery.attempts.length,
    attempts: delivery.attempts.map((a) => ({ at: a.at, status_code: a.statusCode, duration_ms: a.durationMs, error: a.error, response: a.response })),
    next_attempt_at: delivery.nextAttemptAt,
    failure_reason: delivery.failureReason,
  };
}

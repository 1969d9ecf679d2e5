import { RotateWebhookSecretRequest, RotatedWebhookSecret } from '../../events/api/webhooks';
import type { Deps } from '../deps';
import { json, parse, route, type RouteOptions } from '../http/route';
import { lambda } from '../lambda';
import { runWebhookCommand } from '../webhooks/commands';
import { loadOwnEndpoint, newWebhookSecret, presentEndpoint } from './webhook-route';

// The body is optional: no body rotates with the default overlap.
export const schemas = { body: RotateWebhookSecretRequest.optional(), response: RotatedWebhookSecret };

export const options: RouteOptions = { auth: 'key' };

/**
 * POST /v1/webhook-endpoints/{id}/rotate-secret: a new secret, shown once. Until
 * `expire_previous_in_seconds` (24 h by default) have passed, every delivery carries both signatures,
 * so the receiver can switch secrets whenever it likes within that window.
 */
export const make = (deps: Deps) =>
  route(deps, options, async (request) => {
    const { expire_previous_in_seconds } = parse(RotateWebhookSecretRequest, request.body ?? {});
    const endpoint = await loadOwnEndpoint(deps, request);
    const secret = newWebhookSecret();
    const state = await runWebhookCommand(
      deps,
      request.accountId,
      (now) => ({ type: 'RotateSecret', data: { endpointId: endpoint.endpointId, secret, previousExpiresInSeconds: expire_previous_in_seconds }, metadata: { now } }),
      { actor: request.accountId },
    );
    return json(200, { ...presentEndpoint(state.endpoints[endpoint.endpointId]!, deps.now()), secret });
  });

export const handler = lambda(make);

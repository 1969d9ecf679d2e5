import { CreateWebhookEndpointRequest, CreatedWebhookEndpoint } from '../../events/api/webhooks';
import type { Deps } from '../deps';
import { invalidRequest } from '../http/problem';
import { json, parse, route, type RouteOptions } from '../http/route';
import { lambda } from '../lambda';
import { runWebhookCommand } from '../webhooks/commands';
import { webhookSettings } from '../webhooks/settings';
import { checkWebhookUrl, UnsafeUrlError } from '../webhooks/url-guard';
import { newWebhookSecret, presentEndpoint } from './webhook-route';

export const schemas = { body: CreateWebhookEndpointRequest, response: CreatedWebhookEndpoint, status: 201 };

export const options: RouteOptions = { auth: 'key', idempotent: true };

/**
 * POST /v1/webhook-endpoints: registers a receiver. The URL passes the SSRF guard (https, public
 * addresses only; resolved now and again on every connection). The secret is shown this once.
 */
export const make = (deps: Deps) =>
  route(deps, options, async ({ body, accountId }) => {
    const request = parse(CreateWebhookEndpointRequest, body);
    const settings = webhookSettings(deps.webhooks);
    let url: URL;
    try {
      url = await checkWebhookUrl(request.url, { allowLoopback: settings.allowLoopback });
    } catch (error) {
      if (!(error instanceof UnsafeUrlError)) throw error;
      throw invalidRequest(`The url ${error.message}`, [{ path: 'url', message: error.message }]);
    }
    const endpointId = deps.ids.webhookEndpoint();
    const secret = newWebhookSecret();
    const events = !request.events || request.events[0] === '*' ? null : [...new Set(request.events)];
    const state = await runWebhookCommand(
      deps,
      accountId,
      (now) => ({
        type: 'CreateEndpoint',
        data: { endpointId, accountId, url: url.href, events, description: request.description ?? null, secret },
        metadata: { now },
      }),
      { actor: accountId },
    );
    return json(201, { ...presentEndpoint(state.endpoints[endpointId]!, deps.now()), secret }, { location: `/v1/webhook-endpoints/${endpointId}` });
  });

export const handler = lambda(make);

import { CreateApiKeyRequest, CreatedApiKeyBody } from '../../events/api/api-keys';
import type { Deps } from '../deps';
import { newApiKey } from '../http/auth';
import { json, parse, route, type RouteOptions } from '../http/route';
import { lambda } from '../lambda';
import { runKeyCommand } from './api-key-commands';

export const schemas = { body: CreateApiKeyRequest.optional(), response: CreatedApiKeyBody, status: 201 };

export const options: RouteOptions = { auth: 'key', idempotent: true };

/** POST /v1/api-keys: a new key for the caller's account, shown once; only its hash is stored. */
export const make = (deps: Deps) =>
  route(deps, options, async ({ body, accountId }) => {
    const request = parse(CreateApiKeyRequest, body ?? {});
    const keyId = deps.ids.apiKey();
    const { apiKey, secretHash } = newApiKey(keyId);
    let createdAt = '';
    await runKeyCommand(deps, accountId, keyId, (now) => {
      createdAt = now;
      return { type: 'IssueKey', data: { keyId, accountId, secretHash, name: request.name ?? null }, metadata: { now } };
    });
    return json(201, { id: keyId, object: 'api_key', name: request.name ?? null, created_at: createdAt, api_key: apiKey }, {
      location: `/v1/api-keys/${keyId}`,
    });
  });

export const handler = lambda(make);

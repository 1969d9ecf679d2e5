import { createHash } from 'node:crypto';
import { SignupRequest, SignupResponse } from '../../events/api/accounts';
import { decideKey } from '../../domain/identity/identity';
import { accounts } from '../aggregates/ledger';
import { apiKeys, emails, keyrings } from '../aggregates/identity';
import { handleCommands, writeTo } from '../command-handler';
import type { Deps } from '../deps';
import { newApiKey } from '../http/auth';
import { json, parse, route, type RouteOptions } from '../http/route';
import { lambda } from '../lambda';

export const schemas = { body: SignupRequest, response: SignupResponse, status: 201 };

export const options: RouteOptions = { auth: 'none', idempotent: true, sourceLimit: 'signupsPerSource' };

/** POST /v1/signup: opens an account with the trial and its first API key (shown once). */
export const make = (deps: Deps) =>
  route(deps, options, async ({ body }) => {
    const email = parse(SignupRequest, body).email.trim();
    const emailHash = createHash('sha256').update(email.toLowerCase()).digest('hex');
    const accountId = deps.ids.account();
    const keyId = deps.ids.apiKey();
    const { apiKey, secretHash } = newApiKey(keyId);
    await handleCommands(
      deps,
      async ({ now, load }) => {
        const claimed = await load(emails, emailHash);
        const fresh = (streamId: string) => ({ streamId, version: 0 });
        const key = decideKey(
          { type: 'IssueKey', data: { keyId, accountId, secretHash, name: null }, metadata: { now } },
          { key: apiKeys.initialState(), keyring: keyrings.initialState() },
        );
        return {
          writes: [
            writeTo(claimed, emails.decide({ type: 'RegisterEmail', data: { accountId }, metadata: { now } }, claimed.state)),
            writeTo(
              fresh(accounts.streamId(accountId)),
              accounts.decide({ type: 'OpenAccount', data: { accountId, email }, metadata: { now, policy: deps.policy } }, accounts.initialState()),
            ),
            writeTo(fresh(apiKeys.streamId(keyId)), key.key),
            writeTo(fresh(keyrings.streamId(accountId)), key.keyring),
          ],
          result: undefined,
        };
      },
      { metadata: { actor: accountId } },
    );
    return json(201, { account: { id: accountId, email }, api_key: apiKey });
  });

export const handler = lambda(make);

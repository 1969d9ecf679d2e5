import { createHash } from 'node:crypto';
import { SignupRequest, SignupResponse } from '../../events/api/accounts';
import { decideRegisterEmail } from '../../domain/identity/identity';
import { initialAccountState } from '../../domain/ledger/account';
import { decideLedger } from '../../domain/ledger/decide';
import { load } from '../aggregates/aggregate';
import { accounts } from '../aggregates/ledger';
import { apiKeys, emails, keyrings } from '../aggregates/identity';
import { retryOnConflict } from '../adapters/with-retry';
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
    const now = deps.now().toISOString();
    await retryOnConflict(async () => {
      const claimed = await load(deps.store, emails, emailHash);
      await deps.store.append(
        [
          { streamId: emails.streamId(emailHash), expectedVersion: claimed.version, events: decideRegisterEmail(claimed.state, accountId, now) },
          {
            streamId: accounts.streamId(accountId),
            expectedVersion: 0,
            events: decideLedger({ type: 'OpenAccount', data: { accountId, email }, metadata: { now } }, initialAccountState(), deps.policy),
          },
          {
            streamId: apiKeys.streamId(keyId),
            expectedVersion: 0,
            events: [{ type: 'ApiKeyIssued', data: { keyId, accountId, secretHash, issuedAt: now } }],
          },
          {
            streamId: keyrings.streamId(accountId),
            expectedVersion: 0,
            events: [{ type: 'AccountKeyAdded', data: { keyId, name: null, createdAt: now } }],
          },
        ],
        { at: now, metadata: { actor: accountId } },
      );
    });
    return json(201, { account: { id: accountId, email }, api_key: apiKey });
  });

export const handler = lambda(make);

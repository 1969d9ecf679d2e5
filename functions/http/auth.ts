import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { load } from '../aggregates/aggregate';
import { apiKeys } from '../aggregates/identity';
import type { Deps } from '../deps';
import { accountSuspended, unauthorized } from './problem';
import { isSuspended } from './suspension';

/** `sk_<key id without its prefix>_<43 chars of base64url: 256 random bits>`. */
const API_KEY = /^sk_([0-9a-z]{26})_([A-Za-z0-9_-]{43})$/;

export const hashApiKey = (apiKey: string) => createHash('sha256').update(apiKey).digest('hex');

/** Mints a key for `keyId` (`key_…`). The caller stores only its hash and shows the key once. */
export function newApiKey(keyId: string): { apiKey: string; secretHash: string } {
  const apiKey = `sk_${keyId.slice('key_'.length)}_${randomBytes(32).toString('base64url')}`;
  return { apiKey, secretHash: hashApiKey(apiKey) };
}

/**
 * Checks `Authorization: Bearer <admin key>` in constant time (both sides hashed to equal length).
 * @throws HttpProblem 401 for anything but the admin key.
 */
export async function authenticateAdmin(deps: Deps, authorization: string | undefined): Promise<void> {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  if (!match) throw unauthorized('The admin key is required: Authorization: Bearer <admin key>');
  const expected = createHash('sha256').update(await deps.adminKey()).digest();
  const presented = createHash('sha256').update(match[1]!).digest();
  if (!timingSafeEqual(expected, presented)) throw unauthorized('The admin key is not valid');
}

/** A new random admin key, for a local stack started without `SX_ADMIN_KEY`. */
export const newAdminKey = () => `sxadmin_${randomBytes(32).toString('base64url')}`;

/**
 * Resolves `Authorization: Bearer sk_…` to its account. The key id in the key finds its stream;
 * the hashes are compared in constant time.
 * @throws HttpProblem 401 for a missing, malformed, unknown or revoked key.
 */
export async function authenticate(deps: Deps, authorization: string | undefined): Promise<string> {
  return (await authenticateKey(deps, authorization)).accountId;
}

/**
 * {@link authenticate}, also naming the key (`key_…`) that was presented.
 * @throws HttpProblem 401 for a missing, malformed, unknown or revoked key; 403 `account_suspended`
 *   when an operator suspended its account (checked on every request, so it applies at once).
 */
export async function authenticateKey(deps: Deps, authorization: string | undefined): Promise<{ accountId: string; keyId: string }> {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  const parts = match ? API_KEY.exec(match[1]!) : null;
  if (!match || !parts) throw unauthorized();
  const keyId = `key_${parts[1]}`;
  const { state } = await load(deps.store, apiKeys, keyId);
  const presented = Buffer.from(hashApiKey(match[1]!), 'hex');
  if (state.status !== 'active' || !timingSafeEqual(presented, Buffer.from(state.secretHash, 'hex'))) {
    throw unauthorized('The API key is not valid');
  }
  if (await isSuspended(deps, state.accountId)) throw accountSuspended();
  return { accountId: state.accountId, keyId };
}

/**
 * What the Lambda authorizer (`functions/api-authorizer.ts`) found, as API Gateway hands it to the
 * route in `requestContext.authorizer.lambda`. `auth` is what it checked the request against (the
 * route's kind, from `infra/access.ts`); the route trusts it only when that is its own kind.
 * - `allowed`: the key is valid (`accountId`/`keyId` for an API key; nothing more for the admin key);
 * - `refused`: the 401 problem's `detail` (missing, malformed, unknown or revoked key);
 * - `suspended`: a valid key of an account an operator suspended (the route answers 403 `account_suspended`);
 * - `unverified`: the authorizer could not decide (e.g. DynamoDB failed; it logged why), so the
 *   route authenticates the request itself.
 * Flat strings only: the context is a map API Gateway passes through as JSON.
 */
export type AuthorizerContext =
  | { auth: 'key'; outcome: 'allowed'; accountId: string; keyId: string }
  | { auth: 'admin'; outcome: 'allowed' }
  | { auth: 'key' | 'admin'; outcome: 'refused'; detail: string }
  | { auth: 'key'; outcome: 'suspended' }
  | { auth: 'key' | 'admin'; outcome: 'unverified' };

/**
 * Reads the authorizer's context off an event (`requestContext.authorizer.lambda`), if it is one
 * {@link AuthorizerContext} describes; anything else (absent, as locally on a route without the
 * authorizer or in tests; or malformed) is `undefined`, and the route authenticates by itself.
 */
export function authorizerContextOf(event: { requestContext?: unknown }): AuthorizerContext | undefined {
  const lambda = (event.requestContext as { authorizer?: { lambda?: unknown } } | undefined)?.authorizer?.lambda;
  if (typeof lambda !== 'object' || lambda === null) return undefined;
  const c = lambda as Record<string, unknown>;
  if (c.auth !== 'key' && c.auth !== 'admin') return undefined;
  const text = (v: unknown): v is string => typeof v === 'string' && v !== '';
  if (c.outcome === 'allowed' && c.auth === 'key' && text(c.accountId) && text(c.keyId)) return { auth: 'key', outcome: 'allowed', accountId: c.accountId, keyId: c.keyId };
  if (c.outcome === 'allowed' && c.auth === 'admin') return { auth: 'admin', outcome: 'allowed' };
  if (c.outcome === 'refused' && text(c.detail)) return { auth: c.auth, outcome: 'refused', detail: c.detail };
  if (c.outcome === 'suspended' && c.auth === 'key') return { auth: 'key', outcome: 'suspended' };
  if (c.outcome === 'unverified') return { auth: c.auth, outcome: 'unverified' };
  return undefined;
}

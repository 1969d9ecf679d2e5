import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { apiKeys, load } from '../aggregates';
import type { Deps } from '../deps';
import { unauthorized } from './problem';

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
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  const parts = match ? API_KEY.exec(match[1]!) : null;
  if (!match || !parts) throw unauthorized();
  const { state } = await load(deps.store, apiKeys, `key_${parts[1]}`);
  const presented = Buffer.from(hashApiKey(match[1]!), 'hex');
  if (state.status !== 'active' || !timingSafeEqual(presented, Buffer.from(state.secretHash, 'hex'))) {
    throw unauthorized('The API key is not valid');
  }
  return state.accountId;
}

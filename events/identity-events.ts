import { z } from 'zod';
import { AccountId, ApiKeyId, IsoTime } from './values';

/**
 * `email#<sha256 of the lower-cased address>`: at most one account per email, enforced by the
 * event store's conditional append on version 1 of this stream.
 */
export const EmailRegistered = z.object({
  type: z.literal('EmailRegistered'),
  data: z.object({ accountId: AccountId, registeredAt: IsoTime }),
});
export const EmailEvent = z.discriminatedUnion('type', [EmailRegistered]);
export type EmailEvent = z.infer<typeof EmailEvent>;

/** `apikey#<key id>`: an API key. Only a hash of its secret is ever stored. */
export const ApiKeyIssued = z.object({
  type: z.literal('ApiKeyIssued'),
  data: z.object({
    keyId: ApiKeyId,
    accountId: AccountId,
    /** Hex SHA-256 of the whole key; keys carry 256 bits of entropy, so a fast hash is enough. */
    secretHash: z.string().regex(/^[0-9a-f]{64}$/),
    issuedAt: IsoTime,
  }),
});
export const ApiKeyRevoked = z.object({
  type: z.literal('ApiKeyRevoked'),
  data: z.object({ revokedAt: IsoTime }),
});
export const ApiKeyEvent = z.discriminatedUnion('type', [ApiKeyIssued, ApiKeyRevoked]);
export type ApiKeyEvent = z.infer<typeof ApiKeyEvent>;

/**
 * `keyring#<account id>`: the account's API keys (ids only, never secrets), appended in the same
 * transaction as the key's own `apikey#` stream. It lets an account list its keys, caps how many it
 * may hold, and makes "never revoke the last key" hold under concurrent revocations.
 */
export const AccountKeyAdded = z.object({
  type: z.literal('AccountKeyAdded'),
  data: z.object({ keyId: ApiKeyId, name: z.string().nullable(), createdAt: IsoTime }),
});
export const AccountKeyRemoved = z.object({
  type: z.literal('AccountKeyRemoved'),
  data: z.object({ keyId: ApiKeyId, removedAt: IsoTime }),
});
export const KeyringEvent = z.discriminatedUnion('type', [AccountKeyAdded, AccountKeyRemoved]);
export type KeyringEvent = z.infer<typeof KeyringEvent>;

import * as z from 'zod';
import { defineSchema } from './define-schema';
import { AccountId, ApiKeyId, IsoTime, NullableString } from './values';

/**
 * `email#<sha256 of the lower-cased address>`: at most one account per email, enforced by the
 * event store's conditional append on version 1 of this stream.
 */
export const EmailRegistered = /* @__PURE__ */ defineSchema(() => z.object({
  type: z.literal('EmailRegistered'),
  data: z.object({ accountId: AccountId, registeredAt: IsoTime }),
}));
export const EmailEvent = /* @__PURE__ */ defineSchema(() => z.discriminatedUnion('type', [EmailRegistered]));
export type EmailEvent = z.infer<typeof EmailEvent>;

/** `apikey#<key id>`: an API key. Only a hash of its secret is ever stored. */
export const ApiKeyIssued = /* @__PURE__ */ defineSchema(() => z.object({
  type: z.literal('ApiKeyIssued'),
  data: z.object({
    keyId: ApiKeyId,
    accountId: AccountId,
    /** Hex SHA-256 of the whole key; keys carry 256 bits of entropy, so a fast hash is enough. */
    secretHash: z.string().regex(/^[0-9a-f]{64}$/),
    issuedAt: IsoTime,
  }),
}));
export const ApiKeyRevoked = /* @__PURE__ */ defineSchema(() => z.object({
  type: z.literal('ApiKeyRevoked'),
  data: z.object({ revokedAt: IsoTime }),
}));
export const ApiKeyEvent = /* @__PURE__ */ defineSchema(() => z.discriminatedUnion('type', [ApiKeyIssued, ApiKeyRevoked]));
export type ApiKeyEvent = z.infer<typeof ApiKeyEvent>;

/**
 * `keyring#<account id>`: the account's API keys (ids only, never secrets), appended in the same
 * transaction as the key's own `apikey#` stream. It lets an account list its keys, caps how many it
 * may hold, and makes "never revoke the last key" hold under concurrent revocations.
 */
export const AccountKeyAdded = /* @__PURE__ */ defineSchema(() => z.object({
  type: z.literal('AccountKeyAdded'),
  data: z.object({ keyId: ApiKeyId, name: NullableString, createdAt: IsoTime }),
}));
export const AccountKeyRemoved = /* @__PURE__ */ defineSchema(() => z.object({
  type: z.literal('AccountKeyRemoved'),
  data: z.object({ keyId: ApiKeyId, removedAt: IsoTime }),
}));
export const KeyringEvent = /* @__PURE__ */ defineSchema(() => z.discriminatedUnion('type', [AccountKeyAdded, AccountKeyRemoved]));
export type KeyringEvent = z.infer<typeof KeyringEvent>;

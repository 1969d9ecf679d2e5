import { describe, expect, it } from 'vitest';
import { ConflictError, InvalidStateError, NotFoundError } from '../../../domain/errors';
import {
  decideKey,
  evolveApiKey,
  evolveKeyring,
  initialApiKeyState,
  initialKeyringState,
  MAX_API_KEYS,
  type KeyCommand,
} from '../../../domain/identity/identity';
import type { ApiKeyEvent, KeyringEvent } from '../../../events/identity-events';
import { accountId, at } from './fixtures';

const otherAccount = 'acct_01zzzzzzzzzzzzzzzzzzzzzzzz';
const keyId = (n: number) => `key_01${String(n).padStart(24, '0')}`;
const hash = 'a'.repeat(64);
const issued = (n: number, owner = accountId): ApiKeyEvent => ({ type: 'ApiKeyIssued', data: { keyId: keyId(n), accountId: owner, secretHash: hash, issuedAt: at(0) } });
const added = (n: number): KeyringEvent => ({ type: 'AccountKeyAdded', data: { keyId: keyId(n), name: null, createdAt: at(0) } });
const revoke = (n: number, owner = accountId): KeyCommand => ({ type: 'RevokeKey', data: { keyId: keyId(n), accountId: owner }, metadata: { now: at(9) } });
const issue = (n: number): KeyCommand => ({ type: 'IssueKey', data: { keyId: keyId(n), accountId, secretHash: hash, name: 'ci' }, metadata: { now: at(9) } });

/** Given the key's own events and the account's keyring events, when a command: then both streams' events. */
const given = (key: ApiKeyEvent[], keyring: KeyringEvent[]) => ({
  when: (command: KeyCommand) => () =>
    decideKey(command, { key: key.reduce(evolveApiKey, initialApiKeyState()), keyring: keyring.reduce(evolveKeyring, initialKeyringState()) }),
});

describe('API keys', () => {
  describe('When the account has one key', () => {
    it('issues a second, on the key stream and the keyring', () =>
      expect(given([], [added(1)]).when(issue(2))()).toEqual({
        key: [{ type: 'ApiKeyIssued', data: { keyId: keyId(2), accountId, secretHash: hash, issuedAt: at(9) } }],
        keyring: [{ type: 'AccountKeyAdded', data: { keyId: keyId(2), name: 'ci', createdAt: at(9) } }],
      }));
    it('refuses to revoke it: the account would be locked out', () =>
      expect(given([issued(1)], [added(1)]).when(revoke(1))).toThrow(InvalidStateError));
  });

  describe('When the account has two keys', () => {
    it('revokes one', () =>
      expect(given([issued(1)], [added(1), added(2)]).when(revoke(1))()).toEqual({
        key: [{ type: 'ApiKeyRevoked', data: { revokedAt: at(9) } }],
        keyring: [{ type: 'AccountKeyRemoved', data: { keyId: keyId(1), removedAt: at(9) } }],
      }));
    it('revoking a revoked key changes nothing', () =>
      expect(given([issued(1), { type: 'ApiKeyRevoked', data: { revokedAt: at(5) } }], [added(2)]).when(revoke(1))()).toEqual({ key: [], keyring: [] }));
  });

  describe("When the key is another account's", () => {
    it('is not found, exactly as an unknown key', () => {
      expect(given([issued(1, otherAccount)], [added(2), added(3)]).when(revoke(1))).toThrow(NotFoundError);
      expect(given([], [added(2), added(3)]).when(revoke(1))).toThrow(NotFoundError);
    });
  });

  describe(`When the account holds ${MAX_API_KEYS} keys`, () => {
    it('refuses another', () =>
      expect(given([], Array.from({ length: MAX_API_KEYS }, (_, i) => added(i))).when(issue(99))).toThrow(ConflictError));
  });
});

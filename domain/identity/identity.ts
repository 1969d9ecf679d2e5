import type { ApiKeyEvent, EmailEvent, KeyringEvent } from '../../events/identity-events';
import { ConflictError, InvalidStateError, NotFoundError } from '../errors';
import type { StreamDecider } from '../decider';

export type ApiKeyState =
  | { status: 'none' }
  | { status: 'active' | 'revoked'; keyId: string; accountId: string; secretHash: string };

export const initialApiKeyState = (): ApiKeyState => ({ status: 'none' });

export function evolveApiKey(state: ApiKeyState, event: ApiKeyEvent): ApiKeyState {
  switch (event.type) {
    case 'ApiKeyIssued':
      return { status: 'active', ...event.data };
    case 'ApiKeyRevoked':
      return state.status === 'none' ? state : { ...state, status: 'revoked' };
    default: {
      const unknown: never = event;
      return unknown;
    }
  }
}

export type EmailState = { status: 'free' } | { status: 'taken'; accountId: string };

export const initialEmailState = (): EmailState => ({ status: 'free' });

export const evolveEmail = (_state: EmailState, event: EmailEvent): EmailState => ({
  status: 'taken',
  accountId: event.data.accountId,
});

export type RegisterEmail = { type: 'RegisterEmail'; data: { accountId: string }; metadata: { now: string } };

/** Claims an email for a new account: one account (and one trial) per email. */
export function decideEmail(command: RegisterEmail, state: EmailState): EmailEvent[] {
  if (state.status === 'taken') throw new ConflictError('An account with this email already exists');
  return [{ type: 'EmailRegistered', data: { accountId: command.data.accountId, registeredAt: command.metadata.now } }];
}

/** An email's claim: `email#<sha256 of the lower-cased email>`. */
export const emailDecider: StreamDecider<EmailState, RegisterEmail, EmailEvent> = {
  streamId: (hash) => `email#${hash}`,
  initialState: initialEmailState,
  decide: decideEmail,
  evolve: evolveEmail,
};

/** An account's active API keys, by key id (`keyring#<account id>`). */
export interface KeyringState {
  keys: Record<string, { keyId: string; name: string | null; createdAt: string }>;
}

export const initialKeyringState = (): KeyringState => ({ keys: {} });

export function evolveKeyring(state: KeyringState, event: KeyringEvent): KeyringState {
  switch (event.type) {
    case 'AccountKeyAdded':
      return { keys: { ...state.keys, [event.data.keyId]: event.data } };
    case 'AccountKeyRemoved': {
      const { [event.data.keyId]: _removed, ...keys } = state.keys;
      return { keys };
    }
    default: {
      const unknown: never = event;
      return unknown;
    }
  }
}

/** The most active keys an account may hold: enough to rotate per service, few enough to audit. */
export const MAX_API_KEYS = 20;

export type KeyCommand =
  | { type: 'IssueKey'; data: { keyId: string; accountId: string; secretHash: string; name: string | null }; metadata: { now: string } }
  | { type: 'RevokeKey'; data: { keyId: string; accountId: string }; metadata: { now: string } };

/** The events of a key command: to the key's own stream and to the account's keyring, appended together. */
export interface KeyDecision {
  key: ApiKeyEvent[];
  keyring: KeyringEvent[];
}

/**
 * Issues or revokes an API key of an account.
 * @throws ConflictError when issuing beyond {@link MAX_API_KEYS} active keys.
 * @throws NotFoundError when revoking a key that is not one of the account's (unknown or another
 *   account's: the same answer, so nothing leaks).
 * @throws InvalidStateError when revoking the account's last active key (it could never sign in again).
 */
export function decideKey(command: KeyCommand, { key, keyring }: { key: ApiKeyState; keyring: KeyringState }): KeyDecision {
  const { now } = command.metadata;
  switch (command.type) {
    case 'IssueKey': {
      if (key.status !== 'none') throw new ConflictError(`Key ${command.data.keyId} already exists`);
      if (Object.keys(keyring.keys).length >= MAX_API_KEYS) {
        throw new ConflictError(`An account may hold at most ${MAX_API_KEYS} active API keys; revoke one first`);
      }
      const { keyId, accountId, secretHash, name } = command.data;
      return {
        key: [{ type: 'ApiKeyIssued', data: { keyId, accountId, secretHash, issuedAt: now } }],
        keyring: [{ type: 'AccountKeyAdded', data: { keyId, name, createdAt: now } }],
      };
    }
    case 'RevokeKey': {
      const { keyId, accountId } = command.data;
      if (key.status === 'none' || key.accountId !== accountId) throw new NotFoundError(`No API key ${keyId}`);
      if (key.status === 'revoked') return { key: [], keyring: [] };
      const others = Object.keys(keyring.keys).filter((id) => id !== keyId);
      if (others.length === 0) {
        throw new InvalidStateError("This is the account's last active API key; create another before revoking it");
      }
      return {
        key: [{ type: 'ApiKeyRevoked', data: { revokedAt: now } }],
        keyring: keyring.keys[keyId] ? [{ type: 'AccountKeyRemoved', data: { keyId, removedAt: now } }] : [],
      };
    }
    default: {
      const unknown: never = command;
      return unknown;
    }
  }
}

/**
 * The two streams a key command decides on together ({@link decideKey}): the key's own (`apikey#<key
 * id>`, what the authorizer reads) and the account's keyring (`keyring#<account id>`).
 */
export const apiKeyStream: Omit<StreamDecider<ApiKeyState, never, ApiKeyEvent>, 'decide'> = {
  streamId: (keyId) => `apikey#${keyId}`,
  initialState: initialApiKeyState,
  evolve: evolveApiKey,
};
export const keyringStream: Omit<StreamDecider<KeyringState, never, KeyringEvent>, 'decide'> = {
  streamId: (accountId) => `keyring#${accountId}`,
  initialState: initialKeyringState,
  evolve: evolveKeyring,
};

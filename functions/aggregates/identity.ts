import { ApiKeyEvent, EmailEvent, KeyringEvent } from '../../events/identity-events';
import {
  evolveApiKey,
  evolveEmail,
  evolveKeyring,
  initialApiKeyState,
  initialEmailState,
  initialKeyringState,
  type ApiKeyState,
  type EmailState,
  type KeyringState,
} from '../../domain/identity/identity';
import type { Aggregate } from './aggregate';

export const apiKeys: Aggregate<ApiKeyState, ApiKeyEvent> = {
  streamId: (id) => `apikey#${id}`,
  schema: ApiKeyEvent,
  initial: initialApiKeyState,
  evolve: evolveApiKey,
};

export const keyrings: Aggregate<KeyringState, KeyringEvent> = {
  streamId: (accountId) => `keyring#${accountId}`,
  schema: KeyringEvent,
  initial: initialKeyringState,
  evolve: evolveKeyring,
};

export const emails: Aggregate<EmailState, EmailEvent> = {
  streamId: (hash) => `email#${hash}`,
  schema: EmailEvent,
  initial: initialEmailState,
  evolve: evolveEmail,
};

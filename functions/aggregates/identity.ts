import { ApiKeyEvent, EmailEvent, KeyringEvent } from '../../events/identity-events';
import { apiKeyStream, emailDecider, keyringStream } from '../../domain/identity/identity';

export const apiKeys = { ...apiKeyStream, schema: ApiKeyEvent };

export const keyrings = { ...keyringStream, schema: KeyringEvent };

export const emails = { ...emailDecider, schema: EmailEvent };

import type { ApiKeyEvent, EmailEvent } from '../../events/identity-events';
import { ConflictError } from '../errors';

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

/** Claims an email for a new account: one account (and one trial) per email. */
export function decideRegisterEmail(state: EmailState, accountId: string, now: string): EmailEvent[] {
  if (state.status === 'taken') throw new ConflictError('An account with this email already exists');
  return [{ type: 'EmailRegistered', data: { accountId, registeredAt: now } }];
}

import type { WebhookEvent } from '../../events/webhook-events';
import { DomainError, NotFoundError } from '../errors';
import type { StreamDecider } from '../decider';

/** How many endpoints (not deleted) one account may have. */
export const MAX_ENDPOINTS_PER_ACCOUNT = 16;

/** Too many of something the account may only have a few of. Answered as 400 `invalid_request`. */
export class LimitExceededError extends DomainError {
  override readonly name = 'LimitExceededError';
}

export interface EndpointState {
  endpointId: string;
  accountId: string;
  url: string;
  events: string[] | null;
  description: string | null;
  createdAt: string;
  /** Newest first. Every secret whose `expiresAt` is null or later than now signs a delivery. */
  secrets: Array<{ secret: string; expiresAt: string | null }>;
  status: 'enabled' | 'disabled' | 'deleted';
  disabledReason: 'gone' | 'failing' | null;
  disabledAt: string | null;
}

/** The webhook registry of one account: all its endpoints, deleted ones included (they are history). */
export interface WebhookRegistryState {
  endpoints: Record<string, EndpointState>;
}

export const initialWebhookRegistry = (): WebhookRegistryState => ({ endpoints: {} });

export function evolveWebhookRegistry(state: WebhookRegistryState, event: WebhookEvent): WebhookRegistryState {
  const update = (id: string, change: (e: EndpointState) => EndpointState) => {
    const endpoint = state.endpoints[id];
    return endpoint ? { endpoints: { ...state.endpoints, [id]: change(endpoint) } } : state;
  };
  switch (event.type) {
    case 'WebhookEndpointCreated': {
      const { secret, ...rest } = event.data;
      const endpoint: EndpointState = { ...rest, secrets: [{ secret, expiresAt: null }], status: 'enabled', disabledReason: null, disabledAt: null };
      return { endpoints: { ...state.endpoints, [event.data.endpointId]: endpoint } };
    }
    case 'WebhookEndpointSecretRotated':
      return update(event.data.endpointId, (e) => ({
        ...e,
        // Only the newest previous secret overlaps; older ones are retired by this rotation.
        secrets: [{ secret: event.data.secret, expiresAt: null }, { secret: e.secrets[0]!.secret, expiresAt: event.data.previousExpiresAt }],
      }));
    case 'WebhookEndpointDisabled':
      return update(event.data.endpointId, (e) => ({ ...e, status: 'disabled', disabledReason: event.data.reason, disabledAt: event.data.disabledAt }));
    case 'WebhookEndpointEnabled':
      return update(event.data.endpointId, (e) => ({ ...e, status: 'enabled', disabledReason: null, disabledAt: null }));
    case 'WebhookEndpointDeleted':
      return update(event.data.endpointId, (e) => ({ ...e, status: 'deleted' }));
    default: {
      const unknown: never = event;
      return unknown;
    }
  }
}

/** The secrets that sign a delivery at `now`, newest first (two during a rotation's overlap). */
export const signingSecrets = (endpoint: EndpointState, now: string): string[] =>
  endpoint.secrets.filter((s) => s.expiresAt === null || s.expiresAt > now).map((s) => s.secret);

type Meta = { metadata: { now: string } };
export type WebhookCommand =
  | ({ type: 'CreateEndpoint'; data: { endpointId: string; accountId: string; url: string; events: string[] | null; description: string | null; secret: string } } & Meta)
  | ({ type: 'RotateSecret'; data: { endpointId: string; secret: string; previousExpiresInSeconds: number } } & Meta)
  | ({ type: 'DisableEndpoint'; data: { endpointId: string; reason: 'gone' | 'failing' } } & Meta)
  | ({ type: 'EnableEndpoint'; data: { endpointId: string } } & Meta)
  | ({ type: 'DeleteEndpoint'; data: { endpointId: string } } & Meta);

function existing(state: WebhookRegistryState, endpointId: string): EndpointState {
  const endpoint = state.endpoints[endpointId];
  if (!endpoint || endpoint.status === 'deleted') throw new NotFoundError(`No webhook endpoint ${endpointId}`);
  return endpoint;
}

/**
 * Decides a change to an account's webhook endpoints. Secrets and ids come in on the command (the
 * domain draws no randomness), time on `metadata.now`.
 * @throws NotFoundError for an unknown or deleted endpoint; LimitExceededError past
 *   {@link MAX_ENDPOINTS_PER_ACCOUNT}.
 */
export function decideWebhooks(command: WebhookCommand, state: WebhookRegistryState): WebhookEvent[] {
  const now = command.metadata.now;
  switch (command.type) {
    case 'CreateEndpoint': {
      if (state.endpoints[command.data.endpointId]) return [];
      const live = Object.values(state.endpoints).filter((e) => e.status !== 'deleted').length;
      if (live >= MAX_ENDPOINTS_PER_ACCOUNT) {
        throw new LimitExceededError(`An account can have at most ${MAX_ENDPOINTS_PER_ACCOUNT} webhook endpoints; delete one first`);
      }
      return [{ type: 'WebhookEndpointCreated', data: { ...command.data, createdAt: now } }];
    }
    case 'RotateSecret': {
      existing(state, command.data.endpointId);
      const previousExpiresAt = new Date(Date.parse(now) + command.data.previousExpiresInSeconds * 1000).toISOString();
      return [{ type: 'WebhookEndpointSecretRotated', data: { endpointId: command.data.endpointId, secret: command.data.secret, previousExpiresAt, rotatedAt: now } }];
    }
    case 'DisableEndpoint': {
      const endpoint = state.endpoints[command.data.endpointId];
      if (endpoint?.status !== 'enabled') return [];
      return [{ type: 'WebhookEndpointDisabled', data: { endpointId: endpoint.endpointId, reason: command.data.reason, disabledAt: now } }];
    }
    case 'EnableEndpoint': {
      const endpoint = existing(state, command.data.endpointId);
      if (endpoint.status === 'enabled') return [];
      return [{ type: 'WebhookEndpointEnabled', data: { endpointId: endpoint.endpointId, enabledAt: now } }];
    }
    case 'DeleteEndpoint': {
      existing(state, command.data.endpointId);
      return [{ type: 'WebhookEndpointDeleted', data: { endpointId: command.data.endpointId, deletedAt: now } }];
    }
    default: {
      const unknown: never = command;
      return unknown;
    }
  }
}

/** An account's webhook endpoints: one stream per account (`webhooks#<account id>`). */
export const webhookRegistryDecider: StreamDecider<WebhookRegistryState, WebhookCommand, WebhookEvent> = {
  streamId: (accountId) => `webhooks#${accountId}`,
  initialState: initialWebhookRegistry,
  decide: decideWebhooks,
  evolve: evolveWebhookRegistry,
};

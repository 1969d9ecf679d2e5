import { describe, expect, it } from 'vitest';
import { NotFoundError } from '../../../domain/errors';
import {
  decideWebhooks,
  webhookRegistryDecider,
  evolveWebhookRegistry,
  initialWebhookRegistry,
  LimitExceededError,
  MAX_ENDPOINTS_PER_ACCOUNT,
  signingSecrets,
  type WebhookCommand,
  type WebhookRegistryState,
} from '../../../domain/webhooks/endpoints';
import type { WebhookEvent } from '../../../events/webhook-events';
import { deciderSpec } from '../../support/decider-spec';

const given = deciderSpec(webhookRegistryDecider);

const accountId = 'acct_01jd000000000000000000000a';
const endpointId = (n = 1) => `whep_01jd00000000000000000000${String(n).padStart(2, '0')}`;
const at = (s: number) => new Date(Date.UTC(2026, 10, 25, 12, 0, s)).toISOString();
const meta = (s: number) => ({ metadata: { now: at(s) } });
const create = (n = 1): WebhookCommand => ({
  type: 'CreateEndpoint',
  data: { endpointId: endpointId(n), accountId, url: 'https://hooks.example.com/x', events: null, description: null, secret: `whsec_s${n}` },
  ...meta(0),
});
const created = (n = 1): WebhookEvent => ({
  type: 'WebhookEndpointCreated',
  data: { endpointId: endpointId(n), accountId, url: 'https://hooks.example.com/x', events: null, description: null, secret: `whsec_s${n}`, createdAt: at(0) },
});
const disabled = (reason: 'gone' | 'failing' = 'gone'): WebhookEvent => ({ type: 'WebhookEndpointDisabled', data: { endpointId: endpointId(), reason, disabledAt: at(5) } });
const fold = (events: WebhookEvent[]) => events.reduce(evolveWebhookRegistry, initialWebhookRegistry());

describe('Webhook registry', () => {
  describe('When empty', () => {
    it('creates an endpoint', () => given([]).when(create()).then([created()]));
    it('has nothing to delete', () => given([]).when({ type: 'DeleteEndpoint', data: { endpointId: endpointId() }, ...meta(1) }).thenThrows(NotFoundError));
  });

  describe('When an endpoint is enabled', () => {
    it('creating it again (a retried request) changes nothing', () => given([created()]).when(create()).thenNothing());
    it('is disabled for a 410', () =>
      given([created()]).when({ type: 'DisableEndpoint', data: { endpointId: endpointId(), reason: 'gone' }, ...meta(5) }).then([disabled()]));
    it('rotates its secret, keeping the old one signing until it expires', () => {
      const rotate: WebhookCommand = { type: 'RotateSecret', data: { endpointId: endpointId(), secret: 'whsec_new', previousExpiresInSeconds: 60 }, ...meta(10) };
      given([created()]).when(rotate).then([
        { type: 'WebhookEndpointSecretRotated', data: { endpointId: endpointId(), secret: 'whsec_new', previousExpiresAt: at(70), rotatedAt: at(10) } },
      ]);
      const state = fold([created(), ...decideWebhooks(rotate, fold([created()]))]);
      expect(signingSecrets(state.endpoints[endpointId()]!, at(69))).toEqual(['whsec_new', 'whsec_s1']);
      expect(signingSecrets(state.endpoints[endpointId()]!, at(70))).toEqual(['whsec_new']);
    });
    it('is deleted', () =>
      given([created()]).when({ type: 'DeleteEndpoint', data: { endpointId: endpointId() }, ...meta(9) }).then([
        { type: 'WebhookEndpointDeleted', data: { endpointId: endpointId(), deletedAt: at(9) } },
      ]));
  });

  describe('When an endpoint is disabled', () => {
    it('is not disabled twice', () =>
      given([created(), disabled()]).when({ type: 'DisableEndpoint', data: { endpointId: endpointId(), reason: 'failing' }, ...meta(6) }).thenNothing());
    it('can be enabled again', () =>
      given([created(), disabled()]).when({ type: 'EnableEndpoint', data: { endpointId: endpointId() }, ...meta(7) }).then([
        { type: 'WebhookEndpointEnabled', data: { endpointId: endpointId(), enabledAt: at(7) } },
      ]));
  });

  describe('When an endpoint is deleted', () => {
    const deleted: WebhookEvent = { type: 'WebhookEndpointDeleted', data: { endpointId: endpointId(), deletedAt: at(9) } };
    it('cannot be enabled, rotated or deleted again', () => {
      given([created(), deleted]).when({ type: 'EnableEndpoint', data: { endpointId: endpointId() }, ...meta(10) }).thenThrows(NotFoundError);
      given([created(), deleted]).when({ type: 'RotateSecret', data: { endpointId: endpointId(), secret: 'x', previousExpiresInSeconds: 0 }, ...meta(10) }).thenThrows(NotFoundError);
      given([created(), deleted]).when({ type: 'DeleteEndpoint', data: { endpointId: endpointId() }, ...meta(10) }).thenThrows(NotFoundError);
    });
    it('is not disabled by a late failure', () =>
      given([created(), deleted]).when({ type: 'DisableEndpoint', data: { endpointId: endpointId(), reason: 'gone' }, ...meta(10) }).thenNothing());
  });

  describe('When the account has the most endpoints it may', () => {
    const full = Array.from({ length: MAX_ENDPOINTS_PER_ACCOUNT }, (_, i) => created(i + 1));
    it('refuses another', () => given(full).when(create(MAX_ENDPOINTS_PER_ACCOUNT + 1)).thenThrows(LimitExceededError));
    it('takes one after a deletion', () =>
      given([...full, { type: 'WebhookEndpointDeleted', data: { endpointId: endpointId(1), deletedAt: at(1) } }])
        .when(create(MAX_ENDPOINTS_PER_ACCOUNT + 1))
        .then([created(MAX_ENDPOINTS_PER_ACCOUNT + 1)]));
  });
});

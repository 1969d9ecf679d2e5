import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { verifyWebhook, WebhookVerificationError } from '../../../sdk/webhooks';

// A Standard Webhooks secret: whsec_ + base64 of the key bytes.
const secret = `whsec_${Buffer.from('a-32-byte-secret-for-the-tests!!').toString('base64')}`;
const body = JSON.stringify({ type: 'job.succeeded', timestamp: '2026-11-25T12:00:00.000Z', data: { job: { id: 'job_x', status: 'succeeded' } } });

function signed(payload: string, at = new Date(), id = 'msg_1') {
  return { 'webhook-id': id, 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': new Webhook(secret).sign(id, at, payload) };
}

describe('verifyWebhook', () => {
  it('accepts a delivery signed with the endpoint secret and returns its id and event', () => {
    const { id, event } = verifyWebhook(secret, body, signed(body));
    expect(id).toBe('msg_1');
    expect(event).toMatchObject({ type: 'job.succeeded', data: { job: { id: 'job_x' } } });
  });

  it('reads fetch Headers and Node header objects alike (any case)', () => {
    const headers = new Headers(signed(body));
    expect(verifyWebhook(secret, body, headers).id).toBe('msg_1');
    const upper = Object.fromEntries(Object.entries(signed(body)).map(([k, v]) => [k.toUpperCase(), v]));
    expect(verifyWebhook(secret, body, upper).id).toBe('msg_1');
  });

  it('refuses a tampered body, another secret, a missing signature and a replayed old delivery', () => {
    const headers = signed(body);
    expect(() => verifyWebhook(secret, body.replace('succeeded', 'failed'), headers)).toThrow(WebhookVerificationError);
    const other = `whsec_${Buffer.from('another-secret-another-secret!!!').toString('base64')}`;
    expect(() => verifyWebhook(other, body, headers)).toThrow(WebhookVerificationError);
    expect(() => verifyWebhook(secret, body, { 'webhook-id': 'msg_1', 'webhook-timestamp': headers['webhook-timestamp'] })).toThrow(WebhookVerificationError);
    const old = new Date(Date.now() - 10 * 60_000);
    expect(() => verifyWebhook(secret, body, signed(body, old))).toThrow(WebhookVerificationError);
  });

  it('refuses a signed body that is not a webhook event', () => {
    const notAnEvent = JSON.stringify({ hello: 'world' });
    expect(() => verifyWebhook(secret, notAnEvent, signed(notAnEvent))).toThrow(/not a webhook event/);
  });
});

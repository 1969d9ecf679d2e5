import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { parseRetryAfter, signedHeaders } from '../../../functions/webhooks/http-sender';
import { MAX_PAYLOAD_BYTES, thinJob } from '../../../functions/webhooks/public-events';
import { webhookIdOf, WEBHOOK_ID } from '../../../functions/webhooks/deliveries';
import type { JobBody } from '../../../events/api/jobs';

const secret = (n: number) => `whsec_${Buffer.alloc(32, n).toString('base64')}`;

describe('webhook signing', () => {
  it('signs with every secret, and the reference library verifies with either', () => {
    const body = JSON.stringify({ type: 'job.queued', timestamp: '2026-11-25T12:00:00.000Z', data: {} });
    const headers = signedHeaders('msg_1', body, [secret(1), secret(2)], new Date());
    expect(headers['webhook-signature']!.split(' ')).toHaveLength(2);
    expect(new Webhook(secret(1)).verify(body, headers)).toMatchObject({ type: 'job.queued' });
    expect(new Webhook(secret(2)).verify(body, headers)).toMatchObject({ type: 'job.queued' });
    expect(() => new Webhook(secret(3)).verify(body, headers)).toThrow();
    expect(() => new Webhook(secret(1)).verify(`${body} `, headers)).toThrow();
  });
});

describe('Retry-After', () => {
  const now = new Date('2026-11-25T12:00:00.000Z');
  it.each([
    ['120', 120],
    [' 5 ', 5],
    ['Wed, 25 Nov 2026 12:01:00 GMT', 60],
    ['Wed, 25 Nov 2026 11:00:00 GMT', 0],
    ['soon', null],
    [undefined, null],
  ] as const)('%s → %s s', (value, seconds) => expect(parseRetryAfter(value, now)).toBe(seconds));
});

describe('webhook ids', () => {
  it('are stable per stored event, sort by its time, and name the event', () => {
    const stored = (version: number, at: string) => ({ streamId: 'job#job_01jd0000000000000000000000', version, type: 'JobQueued', schemaVersion: 1, data: {}, metadata: {}, at });
    const a = webhookIdOf(stored(1, '2026-11-25T12:00:00.000Z'));
    const b = webhookIdOf(stored(2, '2026-11-25T12:00:01.000Z'));
    expect(a).toBe(webhookIdOf(stored(1, '2026-11-25T12:00:00.000Z')));
    expect(a < b).toBe(true);
    expect(a).toMatch(WEBHOOK_ID);
    expect(a.endsWith('01jd0000000000000000000000000001')).toBe(true);
  });
});

describe('thin payloads', () => {
  const job = (command: string[]): JobBody => ({
    id: 'job_x', object: 'job', name: null, status: 'queued', image: 'a/b:1', command, gpu_type: 'a100', gpu_count: 1,
    max_runtime_seconds: 60, held_seconds: 90, created_at: '2026-11-25T12:00:00.000Z', started_at: null, finished_at: null,
    cancel_requested_at: null, failure_reason: null, exit_code: null, status_reason: null, output_uri: null,
    usage: { gpu_seconds: 0, cost: { amount: 0, currency: 'CNY' }, trial_gpu_seconds: 0 },
  });
  it('leaves a normal job alone and cuts a huge command to stay under 20 kB', () => {
    expect(thinJob(job(['python', 'train.py']))).toEqual(job(['python', 'train.py']));
    const huge = thinJob(job(Array.from({ length: 256 }, () => 'x'.repeat(4096))));
    expect(Buffer.byteLength(JSON.stringify({ type: 'job.queued', timestamp: '', data: { job: huge } }))).toBeLessThan(MAX_PAYLOAD_BYTES);
    expect(huge.command).toHaveLength(16);
  });
});

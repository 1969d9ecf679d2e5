import { describe, expect, it } from 'vitest';
import type { StoredEvent } from '../../../functions/adapters/event-store';
import type { Deps } from '../../../functions/deps';
import { publicEvents } from '../../../functions/webhooks/public-events';
import { WebhookEventType } from '../../../events/api/webhooks';

const accountId = 'acct_01aaaaaaaaaaaaaaaaaaaaaaaa';
const stored = (type: string, data: Record<string, unknown>): StoredEvent => ({
  streamId: `account#${accountId}`,
  version: 7,
  type,
  schemaVersion: 1,
  data,
  metadata: {},
  at: '2026-11-25T12:00:00.000Z',
});

describe('public webhook events from the ledger', () => {
  it('a granted credit is credit.added for its account, with the credit', async () => {
    const event = await publicEvents.CreditGranted!({} as Deps, stored('CreditGranted', {
      creditId: 'cred_1', source: 'voucher', voucherId: 'vch_1', amount: 5000, currency: 'CNY',
      expiresAt: null, recurrence: 'monthly', period: '2026-11', grantedAt: '2026-11-25T12:00:00.000Z',
    }));
    expect(event).toEqual({
      type: 'credit.added',
      accountId,
      data: { credit: { id: 'cred_1', source: 'voucher', voucher_id: 'vch_1', amount: { amount: 5000, currency: 'CNY' }, expires_at: null, recurrence: 'monthly', period: '2026-11', granted_at: '2026-11-25T12:00:00.000Z' } },
    });
  });

  it('a balance falling below 10% is balance.low, saying which balance', async () => {
    const event = await publicEvents.BalanceLow!({} as Deps, stored('BalanceLow', {
      source: 'trial', creditId: null, unit: 'gpu_seconds', granted: 300, remaining: 20, at: '2026-11-25T12:00:00.000Z',
    }));
    expect(event).toEqual({
      type: 'balance.low',
      accountId,
      data: { balance: { source: 'trial', credit_id: null, unit: 'gpu_seconds', granted: 300, remaining: 20, at: '2026-11-25T12:00:00.000Z' } },
    });
  });

  it('every public type API.md lists has a domain event behind it', () => {
    expect(Object.keys(publicEvents)).toEqual(expect.arrayContaining(['JobQueued', 'JobStarting', 'JobRunning', 'JobSucceeded', 'JobFailed', 'JobCancelled', 'CreditGranted', 'BalanceLow']));
    expect(WebhookEventType.options).toEqual(expect.arrayContaining(['credit.added', 'balance.low']));
  });
});

import { describe, expect, it } from 'vitest';
import { PriceList } from '../../../events/api/prices';
import { make } from '../../../functions/api/get-prices';
import type { Deps } from '../../../functions/deps';
import { defaultPolicy } from '../../../domain/policy';

const event = { routeKey: 'GET /v1/prices', rawPath: '/v1/prices', headers: {}, requestContext: { requestId: 'r1', http: { method: 'GET' } } };

describe('GET /v1/prices', () => {
  it('answers the configured price book and hold rules, without a key', async () => {
    // Given a price of ¥20.00 per A100 GPU-hour and a 45 s stop grace
    const policy = { ...defaultPolicy, prices: { a100: 2000 }, stopGraceSeconds: 45 };
    // When asked without any Authorization header
    const res = (await make({ policy } as Deps)(event as never, {} as never)) as { statusCode: number; body: string };
    // Then the answer states them, in the contract's shape
    expect(res.statusCode).toBe(200);
    expect(PriceList.parse(JSON.parse(res.body))).toEqual({
      object: 'list',
      data: [{ gpu_type: 'a100', per_gpu_hour: { amount: 2000, currency: 'CNY' } }],
      minimum_held_seconds: 60,
      stop_grace_seconds: 45,
      trial_gpu_seconds: 300,
    });
  });
});

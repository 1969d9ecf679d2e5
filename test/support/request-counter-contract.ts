import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestCounter } from '../../functions/http/rate-limits';

/**
 * The behaviour every `RequestCounter` must have (functions/http/rate-limits.ts). Call it at the
 * top level of a test file with a factory for the counter under test.
 */
export function requestCounterContract(name: string, make: () => Promise<{ counter: RequestCounter; cleanup?: () => Promise<void> }>): void {
  describe(`RequestCounter contract: ${name}`, () => {
    let counter: RequestCounter;
    let cleanup: (() => Promise<void>) | undefined;
    const fresh = () => `ratelimit#key#${randomUUID()}`;
    beforeAll(async () => {
      ({ counter, cleanup } = await make());
    });
    afterAll(async () => {
      await cleanup?.();
    });

    it('reads 0 for a counter never added to, then counts up from 1', async () => {
      const c = fresh();
      expect(await counter.read(c, '1000')).toBe(0);
      expect(await counter.add(c, '1000', 2000)).toBe(1);
      expect(await counter.add(c, '1000', 2000)).toBe(2);
      expect(await counter.read(c, '1000')).toBe(2);
    });

    it('counts every one of many concurrent adds once', async () => {
      const c = fresh();
      const seen = await Promise.all(Array.from({ length: 40 }, () => counter.add(c, '1000', 2000)));
      expect([...seen].sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
      expect(await counter.read(c, '1000')).toBe(40);
    });

    it('keeps each window and each counter apart', async () => {
      const [a, b] = [fresh(), fresh()];
      await counter.add(a, '1000', 2000);
      await counter.add(a, '1000', 2000);
      expect(await counter.add(a, '1060', 2060)).toBe(1);
      expect(await counter.add(b, '1000', 2000)).toBe(1);
      expect(await counter.read(a, '1000')).toBe(2);
    });
  });
}

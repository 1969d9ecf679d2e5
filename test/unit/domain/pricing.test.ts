import { describe, expect, it } from 'vitest';
import { ceilDiv, floorDiv, priceOf, splitOverCredits } from '../../../domain/ledger/funding';
import { periodOf, periodStart } from '../../../domain/ledger/periods';
import { A100_BASIS, fenPerGpuHour, parseCnyPerUsd, priceBookFrom } from '../../../domain/pricing';

describe('the price book', () => {
  it('prices an A100 at 40% of AWS p4d.24xlarge per GPU, in fen: $32.7726 / 8 × 0.4 × 7.10 = ¥11.63', () => {
    expect(fenPerGpuHour(A100_BASIS)).toBe(1163);
    expect(priceBookFrom({})).toEqual({ a100: 1163 });
  });
  it('takes another exchange rate, or an explicit price', () => {
    expect(priceBookFrom({ cnyPerUsdE4: parseCnyPerUsd('7.2') })).toEqual({ a100: 1180 });
    expect(priceBookFrom({ a100FenPerGpuHour: 999, cnyPerUsdE4: 80_000 })).toEqual({ a100: 999 });
  });
  it.each(['', 'abc', '-7', '7.12345', '0'])('refuses the rate %j', (text) => expect(() => parseCnyPerUsd(text)).toThrow());
});

describe('money arithmetic', () => {
  it('divides exactly, even where floats would round', () => {
    const big = 2 ** 52 + 1;
    expect(ceilDiv(big, 1)).toBe(big);
    expect(ceilDiv(7201, 3600)).toBe(3);
    expect(floorDiv(7199, 3600)).toBe(1);
    expect(priceOf(0, 1163)).toBe(0);
    expect(priceOf(1, 1163)).toBe(1);
  });
  it('splits a job over credits so the shares add up to one rounding of the total', () => {
    const portions = splitOverCredits(10, [{ creditId: 'a', gpuSeconds: 3 }, { creditId: 'b', gpuSeconds: 3 }, { creditId: 'c', gpuSeconds: 100 }], 1163);
    expect(portions.map((p) => p.gpuSeconds)).toEqual([3, 3, 4]);
    expect(portions.reduce((s, p) => s + p.amount, 0)).toBe(priceOf(10, 1163));
  });
});

describe('Shanghai months', () => {
  it('begin at 16:00 UTC the day before', () => {
    expect(periodOf('2026-11-30T15:59:59.999Z')).toBe('2026-11');
    expect(periodOf('2026-11-30T16:00:00.000Z')).toBe('2026-12');
    expect(periodStart('2027-01')).toBe('2026-12-31T16:00:00.000Z');
  });
});

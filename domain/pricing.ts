import type { GpuType } from '../events/values';

/** What a price is derived from: a public cloud's on-demand price, discounted, in CNY. */
export interface PriceBasis {
  /** On-demand price of the instance, in micro-USD per hour (p4d.24xlarge: 32_772_600 = $32.7726). */
  instanceMicroUsdPerHour: number;
  gpusPerInstance: number;
  /** Our price as a percentage of the per-GPU on-demand price. */
  percentOfOnDemand: number;
  /** CNY per USD in ten-thousandths (7.1000 → 71_000). */
  cnyPerUsdE4: number;
}

/**
 * The A100 default (README "Prices"): AWS EC2 on-demand p4d.24xlarge (8 × A100 40 GB), Linux,
 * US East (N. Virginia), $32.7726 per hour; 40% of its per-GPU price; at ¥7.10 per USD.
 */
export const A100_BASIS: PriceBasis = {
  instanceMicroUsdPerHour: 32_772_600,
  gpusPerInstance: 8,
  percentOfOnDemand: 40,
  cnyPerUsdE4: 71_000,
};

/**
 * Fen per GPU-hour for a basis, rounded to the nearest fen. This is configuration arithmetic, done
 * once at start-up; the ledger then only multiplies integers by this rate.
 * ($32.7726 / 8 × 40% × 7.10 = ¥11.6343 → 1163 fen.)
 */
export function fenPerGpuHour(basis: PriceBasis): number {
  // micro-USD × percent × CNY(e4) → fen: divide by gpus, 100 (percent), 1e4 (rate), 1e6 (micro), × 100 (fen).
  const numerator = BigInt(basis.instanceMicroUsdPerHour) * BigInt(basis.percentOfOnDemand) * BigInt(basis.cnyPerUsdE4);
  const denominator = BigInt(basis.gpusPerInstance) * 100n * 10_000n * 10_000n;
  return Number((numerator * 2n + denominator) / (denominator * 2n));
}

/** The price book: fen per GPU-hour, per GPU type. */
export type PriceBook = Record<GpuType, number>;

export const defaultPriceBook = (): PriceBook => ({ a100: fenPerGpuHour(A100_BASIS) });

/**
 * Parses a CNY-per-USD rate written as a decimal (`"7.1"`, `"7.1834"`) into ten-thousandths,
 * without going through a float.
 * @throws Error for anything but a positive decimal with at most 4 fractional digits.
 */
export function parseCnyPerUsd(text: string): number {
  const match = /^(\d{1,3})(?:\.(\d{1,4}))?$/.exec(text.trim());
  const value = match ? Number(match[1]) * 10_000 + Number((match[2] ?? '').padEnd(4, '0')) : 0;
  if (!match || value <= 0) throw new Error(`Not a CNY-per-USD rate: ${JSON.stringify(text)} (write e.g. 7.10)`);
  return value;
}

/**
 * The price book from configuration: an explicit A100 price in fen per GPU-hour wins; otherwise the
 * A100 default basis at the given exchange rate.
 */
export function priceBookFrom(config: { a100FenPerGpuHour?: number; cnyPerUsdE4?: number }): PriceBook {
  return { a100: config.a100FenPerGpuHour ?? fenPerGpuHour({ ...A100_BASIS, ...(config.cnyPerUsdE4 ? { cnyPerUsdE4: config.cnyPerUsdE4 } : {}) }) };
}

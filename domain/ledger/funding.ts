import type { CreditPortion } from '../../events/account-events';

/**
 * How a hold is funded: the trial's GPU-seconds first, then credits in spending order, all priced at
 * the rate recorded on the hold. Both the ledger's settlement and the job's `usage` split what a job
 * used with {@link allocate}, so the two can never disagree.
 */
export interface Funding {
  trialGpuSeconds: number;
  /** Fen per GPU-hour, fixed when the hold was placed. */
  ratePerGpuHour: number;
  /** Each credit's share of the hold, in spending order. */
  credits: CreditPortion[];
}

/** `ceil(numerator / denominator)` on non-negative safe integers, exact (no float rounding at the edges). */
export function ceilDiv(numerator: number, denominator: number): number {
  let q = Math.floor(numerator / denominator);
  // Float division can land one off for large operands; correct it with exact integer products.
  while (q * denominator < numerator) q++;
  while (q > 0 && (q - 1) * denominator >= numerator) q--;
  return q;
}

/** `floor(numerator / denominator)` on non-negative safe integers, exact. */
export function floorDiv(numerator: number, denominator: number): number {
  let q = Math.floor(numerator / denominator);
  while (q * denominator > numerator) q--;
  while ((q + 1) * denominator <= numerator) q++;
  return q;
}

/**
 * The rounding rule (README "Billing rules"): the money for the first `gpuSeconds` credit-paid
 * GPU-seconds of a job is `ceil(gpuSeconds × rate / 3600)` fen: one rounding up, on the job's total.
 */
export const priceOf = (gpuSeconds: number, ratePerGpuHour: number): number => ceilDiv(gpuSeconds * ratePerGpuHour, 3600);

/** GPU-seconds `amount` fen pays for in full at `ratePerGpuHour` (unbounded when the price is 0). */
export const gpuSecondsFor = (amount: number, ratePerGpuHour: number): number =>
  ratePerGpuHour === 0 ? Number.MAX_SAFE_INTEGER : floorDiv(amount * 3600, ratePerGpuHour);

/**
 * Splits GPU-seconds over credits in order, each taking up to `capacities[i]`, and prices each share
 * as the difference of the rounded running totals: the shares add up to exactly
 * `priceOf(total, rate)` (one rounding per job), and no share exceeds `priceOf(its own seconds)`.
 */
export function splitOverCredits(gpuSeconds: number, capacities: Array<{ creditId: string; gpuSeconds: number }>, ratePerGpuHour: number): CreditPortion[] {
  const portions: CreditPortion[] = [];
  let left = gpuSeconds;
  let cumulative = 0;
  for (const { creditId, gpuSeconds: capacity } of capacities) {
    if (left <= 0) break;
    const take = Math.min(left, capacity);
    if (take <= 0) continue;
    const amount = priceOf(cumulative + take, ratePerGpuHour) - priceOf(cumulative, ratePerGpuHour);
    portions.push({ creditId, gpuSeconds: take, amount });
    cumulative += take;
    left -= take;
  }
  return portions;
}

/** What `gpuSeconds` of a job cost and who paid: the trial first, then the credits of its hold in order. */
export interface Allocation {
  gpuSeconds: number;
  trialGpuSeconds: number;
  credits: CreditPortion[];
  /** Fen charged in all: the sum of the credits' amounts. */
  cost: number;
}

/**
 * Allocates `gpuSeconds` used (never more than the hold's GPU-seconds) to the hold's sources.
 * Because the credits' held amounts were priced by the same running totals, each credit's charge is at
 * most what it holds for the job.
 */
export function allocate(funding: Funding, gpuSeconds: number): Allocation {
  const trialGpuSeconds = Math.min(gpuSeconds, funding.trialGpuSeconds);
  const credits = splitOverCredits(gpuSeconds - trialGpuSeconds, funding.credits, funding.ratePerGpuHour);
  return { gpuSeconds, trialGpuSeconds, credits, cost: credits.reduce((sum, c) => sum + c.amount, 0) };
}

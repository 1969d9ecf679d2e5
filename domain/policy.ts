import { defaultPriceBook, type PriceBook } from './pricing';

/**
 * The service's commercial and operational rules, passed into deciders so tests can vary them and
 * the domain reads no configuration of its own.
 */
export interface Policy {
  /** A100 GPU-seconds granted to each new account. */
  trialGpuSeconds: number;
  /** Seconds between SIGTERM and SIGKILL when a job is stopped; held on top of its runtime. */
  stopGraceSeconds: number;
  /** A job is refused (402) unless the account can pay for at least this many seconds of it. */
  minimumHeldSeconds: number;
  /** Fen per GPU-hour by GPU type. A hold records the rate it was placed at; a change never reprices it. */
  prices: PriceBook;
}

export const defaultPolicy: Policy = {
  trialGpuSeconds: 300,
  stopGraceSeconds: 30,
  minimumHeldSeconds: 60,
  prices: defaultPriceBook(),
};

/** Clock and sleep, injectable so tests run limits and backoffs without waiting for real. */
export interface Timing {
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  random: () => number;
}

export const realTiming: Timing = {
  now: Date.now,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  random: Math.random,
};

/**
 * A token bucket: at most `ratePerSecond` calls a second on average, bursts up to `burst`. Callers
 * wait their turn in arrival order; nothing is refused.
 */
export class RateLimiter {
  private tokens: number;
  private last: number;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    private readonly timing: Timing = realTiming,
  ) {
    this.tokens = burst;
    this.last = timing.now();
  }

  /** Resolves when the caller may make one call. */
  take(): Promise<void> {
    const turn = this.queue.then(() => this.waitForToken());
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  private async waitForToken(): Promise<void> {
    for (;;) {
      const now = this.timing.now();
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.ratePerSecond);
      this.last = now;
      if (this.tokens >= 1) {
        this.tokens -= 1;
        return;
      }
      await this.timing.sleep(Math.ceil(((1 - this.tokens) / this.ratePerSecond) * 1000));
    }
  }
}

/** How {@link withBackoff} retries. */
export interface BackoffOptions {
  /** Calls in all, the first included. @default 6 */
  attempts?: number;
  /** Upper bound of the first pause; it doubles each retry. @default 100 */
  baseDelayMs?: number;
  /** Cap of the pause's upper bound. @default 5000 */
  maxDelayMs?: number;
}

/**
 * Runs `call`, retrying while `retryable(error)` with "full jitter" backoff (a uniform pause in
 * 0..bound, the bound doubling), so throttled callers spread out instead of retrying in lockstep.
 * @throws the last error once `attempts` calls failed, or any non-retryable error at once.
 */
export async function withBackoff<T>(
  call: () => Promise<T>,
  retryable: (error: unknown) => boolean,
  options: BackoffOptions = {},
  timing: Timing = realTiming,
): Promise<T> {
  const { attempts = 6, baseDelayMs = 100, maxDelayMs = 5000 } = options;
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (!retryable(error) || attempt >= attempts) throw error;
      const bound = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
      await timing.sleep(Math.floor(timing.random() * bound));
    }
  }
}

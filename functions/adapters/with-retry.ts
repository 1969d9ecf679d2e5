import { ConcurrencyError } from './event-store';

/** How hard {@link retryOnConflict} tries. */
export interface RetryOnConflictOptions {
  /** Runs of `fn` in all, the first included. @default 8 */
  attempts?: number;
  /** The upper bound of the first backoff; it doubles after each conflict. @default 10 */
  baseDelayMs?: number;
  /** The cap of the backoff's upper bound. @default 1000 */
  maxDelayMs?: number;
}

/**
 * Runs `fn` and, when it throws a `ConcurrencyError`, runs it again after a short random pause: the
 * design's "reload and re-decide, bounded retries". `fn` must do the whole load → decide → append, so
 * that every attempt decides on fresh state. The pause is "full jitter" (uniform in 0..bound, the bound
 * doubling from `baseDelayMs` up to `maxDelayMs`) so writers that collided spread out instead of
 * colliding again in lockstep.
 * @throws the last ConcurrencyError once `attempts` runs have all conflicted; any other error from
 *   `fn` at once, without retrying.
 */
export async function retryOnConflict<T>(fn: () => Promise<T>, options: RetryOnConflictOptions = {}): Promise<T> {
  const { attempts = 8, baseDelayMs = 10, maxDelayMs = 1000 } = options;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (!(error instanceof ConcurrencyError) || attempt >= attempts) throw error;
      const bound = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
      await new Promise((resolve) => setTimeout(resolve, Math.random() * bound));
    }
  }
}

import type { AccountEvent } from '../events/account-events';
import { QuotaExceededError, RateLimitedError } from './errors';
import type { Policy } from './policy';

/**
 * Per-account quotas, folded from the account's own stream (`account#<id>`) so that they are decided
 * in the same conditional append as the hold: two concurrent submissions cannot both take the last
 * GPU of the quota, because one of them loses the version check, reloads and is decided again.
 *
 * Kept apart from the ledger (domain/ledger) on purpose: it reads only `HoldPlaced` (job id, GPUs,
 * when) and `HoldSettled` (job id), and ignores every other account event.
 */
export interface QuotaState {
  /** GPUs of each open hold, by job id. */
  openGpus: Record<string, number>;
  /** When recent holds were placed, oldest first; at most {@link MAX_REMEMBERED} are kept. */
  placedAt: string[];
}

/** The version of {@link evolveQuota}'s state and rules; snapshots of another version are ignored. */
export const QUOTA_STATE_VERSION = 1;

/** Bounds the state: no policy may allow more jobs per hour than this. */
export const MAX_REMEMBERED = 1_000;

export const initialQuotaState = (): QuotaState => ({ openGpus: {}, placedAt: [] });

/** Applies one account event; events other than holds leave it unchanged. */
export function evolveQuota(state: QuotaState, event: AccountEvent): QuotaState {
  switch (event.type) {
    case 'HoldPlaced': {
      const placedAt = [...state.placedAt, event.data.placedAt];
      return {
        openGpus: { ...state.openGpus, [event.data.jobId]: event.data.gpuCount },
        placedAt: placedAt.length > MAX_REMEMBERED ? placedAt.slice(-MAX_REMEMBERED) : placedAt,
      };
    }
    case 'HoldSettled': {
      const { [event.data.jobId]: _settled, ...openGpus } = state.openGpus;
      return { ...state, openGpus };
    }
    default:
      return state;
  }
}

export const quotaStateOf = (events: AccountEvent[]): QuotaState => events.reduce(evolveQuota, initialQuotaState());

const HOUR_MS = 3_600_000;

/**
 * Checks a new job of `gpuCount` GPUs at `now` against the account's quotas.
 * @throws QuotaExceededError when the job alone is larger than `policy.maxConcurrentGpus` (waiting
 *   cannot help); RateLimitedError when the account's running jobs and this one would exceed it (retry
 *   after `policy.concurrencyRetryAfterSeconds`), or
 *   when `policy.maxJobsPerHour` jobs were placed in the hour before `now` (retry when the oldest of
 *   them leaves the window).
 */
export function checkQuotas(state: QuotaState, gpuCount: number, policy: Policy, now: string): void {
  if (gpuCount > policy.maxConcurrentGpus) {
    throw new QuotaExceededError(`A ${gpuCount}-GPU job exceeds the account's quota of ${policy.maxConcurrentGpus} concurrent GPUs; ask support to raise it`, {
      name: 'concurrent_gpus',
      limit: policy.maxConcurrentGpus,
    });
  }
  const inUse = Object.values(state.openGpus).reduce((sum, gpus) => sum + gpus, 0);
  if (inUse + gpuCount > policy.maxConcurrentGpus) {
    throw new RateLimitedError(
      `The account's jobs hold ${inUse} of its ${policy.maxConcurrentGpus} concurrent GPUs; ${gpuCount} more do not fit until some finish`,
      policy.concurrencyRetryAfterSeconds,
    );
  }
  const nowMs = Date.parse(now);
  const inWindow = state.placedAt.filter((at) => Date.parse(at) > nowMs - HOUR_MS);
  if (inWindow.length >= policy.maxJobsPerHour) {
    // The window frees a slot when the oldest job in it is an hour old.
    const oldest = inWindow[inWindow.length - policy.maxJobsPerHour]!;
    const retryAfterSeconds = Math.max(1, Math.ceil((Date.parse(oldest) + HOUR_MS - nowMs) / 1000));
    throw new RateLimitedError(`The account submitted ${inWindow.length} jobs in the last hour; the quota is ${policy.maxJobsPerHour}`, retryAfterSeconds);
  }
}

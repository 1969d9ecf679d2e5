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
  /** Per-account quota: GPUs of all open holds (queued and running jobs) together. */
  maxConcurrentGpus: number;
  /** Per-account quota: jobs submitted in any sliding hour (at most `MAX_REMEMBERED` in domain/quotas.ts). */
  maxJobsPerHour: number;
  /** `Retry-After` hint when the concurrent-GPU quota is full (when a job will end is not known). */
  concurrencyRetryAfterSeconds: number;
  /** Per-account quota: bytes of all files (ready ones, and uploading ones for their declared size). */
  storageQuotaBytes: number;
  /** The largest file (API.md: at least 100 GiB). */
  maxFileBytes: number;
  /** An upload not completed this long after it began fails and its parts are deleted. */
  uploadExpirySeconds: number;
}

export const defaultPolicy: Policy = {
  trialGpuSeconds: 300,
  stopGraceSeconds: 30,
  minimumHeldSeconds: 60,
  prices: defaultPriceBook(),
  maxConcurrentGpus: 16,
  maxJobsPerHour: 1000,
  concurrencyRetryAfterSeconds: 30,
  storageQuotaBytes: 500 * 1024 ** 3,
  maxFileBytes: 100 * 1024 ** 3,
  uploadExpirySeconds: 24 * 3600,
};

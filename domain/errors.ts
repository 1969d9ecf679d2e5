/**
 * Domain errors: a broken business rule. Mapped to HTTP problem types only at the edge
 * (`functions/http/problem.ts`); the domain knows nothing of HTTP.
 */
export abstract class DomainError extends Error {}

/** The account cannot pay for the minimum billable time of the job. */
export class InsufficientBalanceError extends DomainError {
  override readonly name = 'InsufficientBalanceError';
}

/** The thing already exists (an email already registered, a job id already used). */
export class ConflictError extends DomainError {
  override readonly name = 'ConflictError';
}

/** The command does not apply in the aggregate's current state (e.g. cancelling a finished job). */
export class InvalidStateError extends DomainError {
  override readonly name = 'InvalidStateError';
}

/** The aggregate does not exist. */
export class NotFoundError extends DomainError {
  override readonly name = 'NotFoundError';
}

/** A quota of the account, by name, and its limit (GPUs, bytes). */
export interface Quota {
  name: 'concurrent_gpus' | 'storage_bytes';
  limit: number;
}

/**
 * A limit of the account that waiting will not lift: a job larger than its concurrent-GPU quota, a
 * file that does not fit its storage. Raising the quota (or deleting files) helps; retrying does not.
 */
export class QuotaExceededError extends DomainError {
  override readonly name = 'QuotaExceededError';
  constructor(
    message: string,
    readonly quota: Quota,
  ) {
    super(message);
  }
}

/**
 * A per-account quota is used up for now (concurrent GPUs, jobs per hour). `retryAfterSeconds` is when the
 * request could succeed again.
 */
export class RateLimitedError extends DomainError {
  override readonly name = 'RateLimitedError';
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}

/** An operator suspended the account: its keys are refused and it may start nothing (API.md: 403 `account_suspended`). */
export class AccountSuspendedError extends DomainError {
  override readonly name = 'AccountSuspendedError';
}

import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import {
  AccountSuspendedError,
  ConflictError,
  DomainError,
  InsufficientBalanceError,
  InvalidStateError,
  NotFoundError,
  QuotaExceededError,
  RateLimitedError,
  type Quota,
} from '../../domain/errors';
import { FileTooLargeError, InvalidUploadError } from '../../domain/files/files';
import { ConcurrencyError } from '../adapters/event-store';
import type { ProblemType } from '../../events/api/common';

/** An RFC 9457 problem: `type` is one of API.md's slugs (`problemStatuses`, which the OpenAPI document lists). */
export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly type: ProblemType,
    readonly title: string,
    readonly detail?: string,
    readonly errors?: Array<{ path: string; message: string }>,
    readonly headers: Record<string, string> = {},
    /** The quota a 409 `quota_exceeded` ran into: an extension member of the problem. */
    readonly quota?: Quota,
  ) {
    super(detail ?? title);
  }
}

export const invalidRequest = (detail: string, errors?: Array<{ path: string; message: string }>) =>
  new HttpProblem(400, 'invalid_request', 'Invalid request', detail, errors);
export const unauthorized = (detail = 'A valid API key is required: Authorization: Bearer sk_…') =>
  new HttpProblem(401, 'unauthorized', 'Unauthorized', detail, undefined, { 'www-authenticate': 'Bearer' });
export const notFound = (detail = 'No such resource') => new HttpProblem(404, 'not_found', 'Not found', detail);
/** 415: a body that is not JSON (`Content-Type` other than `application/json` or a `+json` type). */
export const unsupportedMediaType = () =>
  new HttpProblem(415, 'unsupported_media_type', 'Unsupported media type', 'Send JSON with Content-Type: application/json');
export const payloadTooLarge = (limit: number) =>
  new HttpProblem(413, 'payload_too_large', 'Payload too large', `Request bodies are limited to ${limit} bytes`);

/** 403 `account_suspended`: an operator suspended the account the key belongs to. */
export const accountSuspended = (detail = 'This account is suspended; contact support') =>
  new HttpProblem(403, 'account_suspended', 'Account suspended', detail);
export const conflict = (detail: string) => new HttpProblem(409, 'conflict', 'Conflict', detail);
export const idempotencyKeyReuse = (detail: string) =>
  new HttpProblem(422, 'idempotency_key_reuse', 'Idempotency key reused', detail);
/** 429 `rate_limited`, with `Retry-After`: when waiting will help (seconds). */
export const rateLimited = (detail: string, retryAfterSeconds: number) =>
  new HttpProblem(429, 'rate_limited', 'Rate limited', detail, undefined, { 'retry-after': String(retryAfterSeconds) });
/** 409 `quota_exceeded`: a limit of the account that waiting will not lift, named in `quota`. */
export const quotaExceeded = (detail: string, quota: Quota) =>
  new HttpProblem(409, 'quota_exceeded', 'Quota exceeded', detail, undefined, {}, quota);

/** Maps a domain error to its problem; anything else is not ours to describe. */
function fromDomain(error: DomainError): HttpProblem {
  if (error instanceof RateLimitedError) return rateLimited(error.message, error.retryAfterSeconds);
  if (error instanceof InsufficientBalanceError)
    return new HttpProblem(402, 'insufficient_balance', 'Insufficient balance', error.message);
  if (error instanceof NotFoundError) return notFound(error.message);
  if (error instanceof AccountSuspendedError) return accountSuspended(error.message);
  if (error instanceof ConflictError) return new HttpProblem(409, 'conflict', 'Conflict', error.message);
  if (error instanceof InvalidStateError) return new HttpProblem(409, 'invalid_state', 'Invalid state', error.message);
  if (error instanceof QuotaExceededError) return quotaExceeded(error.message, error.quota);
  if (error instanceof InvalidUploadError) return new HttpProblem(422, 'invalid_upload', 'Invalid upload', error.message);
  if (error instanceof FileTooLargeError) return new HttpProblem(413, 'payload_too_large', 'File too large', error.message);
  return new HttpProblem(400, 'invalid_request', 'Invalid request', error.message);
}

/** The problem to answer for any error: known ones as themselves, the rest as a bare 500. */
export function toProblem(error: unknown, requestId: string): HttpProblem {
  if (error instanceof HttpProblem) return error;
  if (error instanceof DomainError) return fromDomain(error);
  // Retries ran out under contention: the request changed nothing and may be retried.
  if (error instanceof ConcurrencyError)
    return new HttpProblem(409, 'conflict', 'Conflict', 'A concurrent change won; retry the request');
  return new HttpProblem(500, 'internal_error', 'Internal error', `Request ${requestId} failed; it has been logged`);
}

export function problemResponse(problem: HttpProblem, requestId: string): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode: problem.status,
    headers: {
      'content-type': 'application/problem+json',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      'x-request-id': requestId,
      ...problem.headers,
    },
    body: JSON.stringify({
      type: problem.type,
      title: problem.title,
      status: problem.status,
      ...(problem.detail ? { detail: problem.detail } : {}),
      ...(problem.errors ? { errors: problem.errors } : {}),
      ...(problem.quota ? { quota: problem.quota } : {}),
      request_id: requestId,
    }),
  };
}

import type { AnyProblem } from '../events/api/common';

/**
 * The API answered with an RFC 9457 problem (any 4xx or 5xx). `type` is one of API.md's slugs
 * (`invalid_request`, `unauthorized`, `not_found`, `conflict`, `insufficient_balance`, …); `message`
 * is one readable line naming it, the detail and any invalid fields.
 */
export class SxApiError extends Error {
  override readonly name = 'SxApiError';
  readonly status: number;
  readonly type: string;
  readonly title: string;
  readonly detail: string | undefined;
  readonly errors: Array<{ path: string; message: string }>;
  readonly requestId: string | undefined;
  /** The method and path asked, e.g. `POST /v1/jobs`. */
  readonly request: string;

  constructor(problem: AnyProblem, request: string) {
    const fields = (problem.errors ?? []).map((e) => `${e.path}: ${e.message}`);
    const detail = problem.detail ?? problem.title;
    // The detail of a validation error already names the fields; only add them when it does not.
    const extra = fields.length && !fields.every((f) => detail.includes(f)) ? ` (${fields.join('; ')})` : '';
    super(`${problem.type} (${problem.status}): ${detail}${extra}`);
    this.status = problem.status;
    this.type = problem.type;
    this.title = problem.title;
    this.detail = problem.detail;
    this.errors = problem.errors ?? [];
    this.requestId = problem.request_id;
    this.request = request;
  }

  /**
   * True when the server has no such route at all (an older server), rather than no such resource:
   * the local stack answers "No route …", API Gateway a body that is not a problem (see problemOf).
   */
  get isMissingRoute(): boolean {
    // Title or detail: problemOf puts API Gateway's own body in the detail and "No route" in the title.
    return this.status === 404 && (/^No route\b/.test(this.title) || /^No route\b/.test(this.detail ?? ''));
  }
}

/**
 * The API could not be reached (DNS, refused or reset connection, timeout) even after retrying
 * with backoff; `attempts` says how often it was tried. Nothing is known about whether a
 * non-idempotent request took effect, which is why creating requests carry an Idempotency-Key.
 */
export class SxConnectionError extends Error {
  override readonly name = 'SxConnectionError';
  constructor(
    readonly url: string,
    readonly attempts: number,
    override readonly cause: unknown,
  ) {
    super(`cannot reach ${url} after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${describeCause(cause)}`);
  }
}

/** The API answered 2xx with a body that does not match the schema this SDK was built with. */
export class SxResponseError extends Error {
  override readonly name = 'SxResponseError';
  constructor(
    readonly request: string,
    readonly issues: string,
  ) {
    super(`unexpected response to ${request}: ${issues}`);
  }
}

/** Node's fetch hides the useful part (ECONNREFUSED, ENOTFOUND) in `cause`. */
function describeCause(cause: unknown): string {
  if (cause instanceof Error) {
    if (cause.name === 'TimeoutError') return 'timed out';
    const inner = (cause as { cause?: unknown }).cause;
    if (inner instanceof Error) {
      const code = (inner as { code?: string }).code;
      return code ? `${code} (${inner.message})` : inner.message;
    }
    return cause.message;
  }
  return String(cause);
}

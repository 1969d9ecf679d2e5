import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Deps } from '../deps';
import { rateLimited } from './problem';

/** At most `limit` requests in each fixed window of `windowSeconds`. */
export interface RateLimit {
  limit: number;
  windowSeconds: number;
}

/** The limits the route layer applies, the same in AWS and locally. */
export interface RateLimits {
  /** Requests one API key may make (every keyed route counts; the admin key is not limited). */
  perKey: RateLimit;
  /** Signups from one source address. */
  signupsPerSource: RateLimit;
  /** Requests with a missing, malformed, unknown or revoked key from one source address; past it the source gets 429 before its key is even read. */
  failedAuthPerSource: RateLimit;
}

/** The figures (README, "Limits"): 600 requests a minute a key, 10 signups an hour and 30 failed authentications in 5 minutes a source address. */
export const defaultRateLimits: RateLimits = {
  perKey: { limit: 600, windowSeconds: 60 },
  signupsPerSource: { limit: 10, windowSeconds: 3600 },
  failedAuthPerSource: { limit: 30, windowSeconds: 300 },
};

export const rateLimitsOf = (deps: Pick<Deps, 'rateLimits'>): RateLimits => ({ ...defaultRateLimits, ...deps.rateLimits });

export type RateLimitScope = 'key' | 'signup' | 'auth-failure';

/**
 * Where request counts live: one counter per subject and fixed window, shared by every Lambda
 * container (or the whole local stack), gone after `expiresAt` (epoch seconds). DynamoDB in AWS and
 * locally ({@link DynamoDbRequestCounter}); in memory for unit tests of the route layer. One
 * contract suite (test/support/request-counter-contract.ts) holds both to the same behaviour.
 */
export interface RequestCounter {
  /** Adds one to the counter and returns its new value (atomic: concurrent adds are all counted). */
  add(counter: string, window: string, expiresAt: number): Promise<number>;
  /** The counter's value (0 when it was never added to). */
  read(counter: string, window: string): Promise<number>;
}

/** Counters as items of the views table (`pk` = `ratelimit#<scope>#<subject>`, `sk` = window start), removed by TTL. */
export class DynamoDbRequestCounter implements RequestCounter {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async add(counter: string, window: string, expiresAt: number): Promise<number> {
    const out = await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { pk: counter, sk: window },
        UpdateExpression: 'ADD hits :one SET expiresAt = if_not_exists(expiresAt, :expires)',
        ExpressionAttributeValues: { ':one': 1, ':expires': expiresAt },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    return out.Attributes?.hits as number;
  }

  async read(counter: string, window: string): Promise<number> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.table, Key: { pk: counter, sk: window }, ProjectionExpression: 'hits' }));
    return (Item?.hits as number | undefined) ?? 0;
  }
}

/** Counters in a Map, for unit tests of the route layer (the local stack and AWS use DynamoDB). */
export class InMemoryRequestCounter implements RequestCounter {
  private readonly counts = new Map<string, number>();

  async add(counter: string, window: string): Promise<number> {
    const key = `${counter}\n${window}`;
    const next = (this.counts.get(key) ?? 0) + 1;
    this.counts.set(key, next);
    return next;
  }

  async read(counter: string, window: string): Promise<number> {
    return this.counts.get(`${counter}\n${window}`) ?? 0;
  }
}

/** The counter of one subject's current window, and when that window ends. */
function windowOf(scope: RateLimitScope, subject: string, rule: RateLimit, now: Date) {
  const nowSeconds = Math.floor(now.getTime() / 1000);
  const start = nowSeconds - (nowSeconds % rule.windowSeconds);
  const end = start + rule.windowSeconds;
  return { counter: `ratelimit#${scope}#${subject}`, window: String(start), end, retryAfter: Math.max(1, end - nowSeconds) };
}

/**
 * Counts one request of `subject` in the current fixed window.
 * @throws HttpProblem 429 `rate_limited` with `Retry-After` (the seconds to the window's end) past the limit.
 */
export async function countRequest(deps: Deps, scope: RateLimitScope, subject: string, rule: RateLimit, what: string): Promise<void> {
  const w = windowOf(scope, subject, rule, deps.now());
  // Kept a minute past the window's end: TTL's lag does not matter, the next window has another key.
  const count = await deps.requestCounter.add(w.counter, w.window, w.end + 60);
  if (count > rule.limit) throw limited(rule, w.retryAfter, what);
}

/** Counts one request of `subject` without refusing it (a failed authentication: its 401 stands). */
export async function recordRequest(deps: Deps, scope: RateLimitScope, subject: string, rule: RateLimit): Promise<void> {
  const w = windowOf(scope, subject, rule, deps.now());
  await deps.requestCounter.add(w.counter, w.window, w.end + 60);
}

/**
 * Refuses `subject` while its current window is at the limit, without counting this request.
 * @throws HttpProblem 429 `rate_limited` with `Retry-After`.
 */
export async function refuseOverLimit(deps: Deps, scope: RateLimitScope, subject: string, rule: RateLimit, what: string): Promise<void> {
  const w = windowOf(scope, subject, rule, deps.now());
  if ((await deps.requestCounter.read(w.counter, w.window)) >= rule.limit) throw limited(rule, w.retryAfter, what);
}

const limited = (rule: RateLimit, retryAfter: number, what: string) =>
  rateLimited(`${what}: at most ${rule.limit} in ${rule.windowSeconds} s; retry in ${retryAfter} s`, retryAfter);

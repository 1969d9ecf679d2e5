import middy, { type MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type * as z from 'zod';
import type { Deps } from '../deps';
import { authenticateAdmin, authenticateKey, authorizerContextOf } from './auth';
import { headerOf } from './headers';
import { claimIdempotencyKey, finishIdempotentRequest, isSaved, type IdempotencyClaim } from './idempotency';
import { accountSuspended, HttpProblem, invalidRequest, payloadTooLarge, problemResponse, toProblem, unauthorized, unsupportedMediaType } from './problem';
import { logger } from '../logger';
import { countRequest, rateLimitsOf, recordRequest, refuseOverLimit } from './rate-limits';

export type ApiEvent = APIGatewayProxyEventV2;
export type ApiResult = APIGatewayProxyStructuredResultV2;

/** API.md: request bodies over 64 KiB get 413, checked before parsing. */
export const MAX_BODY_BYTES = 64 * 1024;

export interface ApiRequest {
  event: ApiEvent;
  /** The parsed JSON body (undefined when there is none). */
  body: unknown;
  /** The caller's account, for routes with `auth: 'key'` ('' for `'admin'` and `'none'`). */
  accountId: string;
  requestId: string;
}

type RouteContext = Context & { sx: { body: unknown; accountId: string; claim?: IdempotencyClaim } };

/** How a route is guarded. Every route module exports its own as `options` (the OpenAPI document reads it). */
export interface RouteOptions {
  /** An account's API key (`'key'`), the admin key (`'admin'`) or none. */
  auth: 'key' | 'admin' | 'none';
  /**
   * Honours `Idempotency-Key` (API.md): every `POST` that creates something must set this. The first
   * response is replayed for 24 h; another body under the same key is 422; a concurrent request
   * with the key is 409 `conflict` (see functions/http/idempotency.ts).
   */
  idempotent?: boolean;
  /** Counts the route's requests per source address against this limit (signup: `signupsPerSource`). */
  sourceLimit?: 'signupsPerSource';
}

type MiddyRequest = { event: ApiEvent; context: RouteContext; error?: unknown };

/** The problem+json answer for an error; an unexpected one is logged with the request id and leaks nothing. */
function errorResponse(request: MiddyRequest): ApiResult {
  const requestId = request.event.requestContext?.requestId ?? request.context.awsRequestId ?? 'unknown';
  const problem = toProblem(request.error, requestId);
  if (problem.status >= 500) {
    logger.error('request failed', { requestId, route: request.event.routeKey, error: request.error });
  }
  return problemResponse(problem, requestId);
}

/** Answers problem+json for every error (unless a later middleware already answered it). */
const problemDetails = (): MiddlewareObj<ApiEvent, ApiResult, Error, RouteContext> => ({
  before: async (request) => {
    request.context.sx = { body: undefined, accountId: '' };
  },
  onError: async (request) => {
    request.response ??= errorResponse(request);
  },
});

/** Replays, refuses or claims an `Idempotency-Key`, then saves (or releases) what the request answered. */
const idempotency = (deps: Deps): MiddlewareObj<ApiEvent, ApiResult, Error, RouteContext> => ({
  before: async (request) => {
    const key = headerOf(request.event, 'idempotency-key');
    if (key === undefined) return;
    const { event, context } = request;
    const outcome = await claimIdempotencyKey(deps, context.sx.accountId || 'anonymous', key, {
      method: event.requestContext.http.method,
      path: event.rawPath,
      body: context.sx.body,
    });
    if ('replay' in outcome) return outcome.replay as ApiResult;
    context.sx.claim = outcome.claim;
  },
  after: async (request) => {
    const { claim } = request.context.sx;
    const response = request.response as ApiResult;
    if (claim) await finishIdempotentRequest(deps, claim, response, isSaved(response.statusCode ?? 200));
  },
  onError: async (request) => {
    const { claim } = request.context.sx ?? {};
    if (!claim) return;
    const response = errorResponse(request);
    await finishIdempotentRequest(deps, claim, response, isSaved(response.statusCode ?? 500, request.error));
    request.response = response;
  },
});

/** The methods whose body the API reads. */
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

/** Enforces the body limit and parses JSON; malformed JSON is a 400, never a 5xx. */
const jsonBody = (): MiddlewareObj<ApiEvent, ApiResult, Error, RouteContext> => ({
  before: async (request) => {
    const { body, isBase64Encoded } = request.event;
    if (body === undefined || body === '') return;
    // Content in a GET or DELETE has no meaning (RFC 9110, 9.3.1 and 9.3.5): it is ignored, so these
    // operations answer no body-related problems (413, 415, malformed JSON) the document would have to list.
    if (!BODY_METHODS.has(request.event.requestContext.http.method)) return;
    const text = isBase64Encoded ? Buffer.from(body, 'base64').toString('utf8') : body;
    if (Buffer.byteLength(text, 'utf8') > MAX_BODY_BYTES) throw payloadTooLarge(MAX_BODY_BYTES);
    const type = headerOf(request.event, 'content-type') ?? 'application/json';
    if (!/^application\/([a-z0-9.+-]*\+)?json\b/i.test(type)) {
      throw unsupportedMediaType();
    }
    try {
      request.context.sx.body = JSON.parse(text);
    } catch {
      throw invalidRequest('The body is not valid JSON');
    }
  },
});

/**
 * Authenticates with the Lambda authorizer's verdict when API Gateway passed one for this kind of
 * route (AWS, and the local front on the same routes), so the key is read once per request; else
 * (no verdict, `unverified`, or one for another kind of route) checks the key itself.
 */
const authentication = (deps: Deps, auth: 'key' | 'admin'): MiddlewareObj<ApiEvent, ApiResult, Error, RouteContext> => ({
  before: async (request) => {
    const limits = rateLimitsOf(deps);
    const source = sourceOf(request.event);
    // A source that keeps presenting bad keys is refused before its key is read again.
    await refuseOverLimit(deps, 'auth-failure', source, limits.failedAuthPerSource, 'Too many failed authentications from this address');
    let keyId: string | undefined;
    try {
      keyId = await authenticated(deps, auth, request);
    } catch (error) {
      if (error instanceof HttpProblem && error.status === 401) await recordRequest(deps, 'auth-failure', source, limits.failedAuthPerSource);
      throw error;
    }
    if (keyId) await countRequest(deps, 'key', keyId, limits.perKey, 'Too many requests with this API key');
  },
});

/** The key that authenticated the request (none for the admin key); sets the caller's account. @throws HttpProblem 401 */
async function authenticated(deps: Deps, auth: 'key' | 'admin', request: MiddyRequest): Promise<string | undefined> {
  const found = authorizerContextOf(request.event);
  // A verdict on another kind of key (the tables disagree) proves nothing here.
  const verdict = found?.auth === auth ? found : undefined;
  if (verdict?.outcome === 'refused') throw unauthorized(verdict.detail);
  if (verdict?.outcome === 'suspended') throw accountSuspended();
  if (verdict?.outcome === 'allowed') {
    if (verdict.auth !== 'key') return undefined;
    request.context.sx.accountId = verdict.accountId;
    return verdict.keyId;
  }
  const authorization = headerOf(request.event, 'authorization');
  if (auth === 'admin') {
    await authenticateAdmin(deps, authorization);
    return undefined;
  }
  const { accountId, keyId } = await authenticateKey(deps, authorization);
  request.context.sx.accountId = accountId;
  return keyId;
}

/** The caller's address as API Gateway (or the local front) saw the connection. */
const sourceOf = (event: ApiEvent) => event.requestContext?.http?.sourceIp || 'unknown';

/** Counts a public route's requests per source address. */
const sourceLimit = (deps: Deps, limit: 'signupsPerSource'): MiddlewareObj<ApiEvent, ApiResult, Error, RouteContext> => ({
  before: async (request) => {
    await countRequest(deps, 'signup', sourceOf(request.event), rateLimitsOf(deps)[limit], 'Too many signups from this address');
  },
});

/**
 * Wraps a route: problem+json errors; authentication (an account's API key (`'key'`), the admin key
 * (`'admin'`) or none) with the request limits of `rate-limits.ts` (per key, failed authentications
 * per source, and a public route's own per-source limit); the body limit and JSON parsing; then, for `idempotent` routes, the
 * Idempotency-Key. The route itself parses with zod, decides, appends and answers.
 */
export function route(deps: Deps, options: RouteOptions, fn: (request: ApiRequest) => Promise<ApiResult>) {
  // Who is calling comes first: an unauthenticated request learns nothing about its body.
  const handler = middy<ApiEvent, ApiResult, Error, RouteContext>().use(problemDetails());
  if (options.auth !== 'none') handler.use(authentication(deps, options.auth));
  if (options.sourceLimit) handler.use(sourceLimit(deps, options.sourceLimit));
  handler.use(jsonBody());
  if (options.idempotent) handler.use(idempotency(deps));
  return handler.handler((event, context) =>
    fn({ event, body: context.sx.body, accountId: context.sx.accountId, requestId: event.requestContext.requestId }),
  );
}

/**
 * Validates input with a zod schema; failures become one 400 naming each bad path.
 * @throws HttpProblem 400 `invalid_request`
 */
export function parse<S extends z.ZodType>(schema: S, value: unknown, what = 'body'): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const pathOf = (path: PropertyKey[]) => path.map(String).join('.') || what;
  // An unknown field is named by its own path, not its parent's, so a client sees which one to drop.
  const errors = result.error.issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({ path: pathOf([...issue.path, key]), message: 'unknown field' }))
      : [{ path: pathOf(issue.path), message: issue.message }],
  );
  throw invalidRequest(`The ${what} is invalid: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`, errors);
}

/**
 * A JSON answer. Not cacheable by default (answers are per account, and some carry a secret shown
 * once); `nosniff` so a browser never reads one as anything but JSON.
 */
export const json = (statusCode: number, body: unknown, headers: Record<string, string> = {}): ApiResult => ({
  statusCode,
  headers: { 'content-type': 'application/json', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', ...headers },
  body: JSON.stringify(body),
});

import type { APIGatewayRequestAuthorizerEventV2, APIGatewaySimpleAuthorizerWithContextResult } from 'aws-lambda';
import { routeAuth } from '../infra/access';
import type { Deps } from './deps';
import { authenticateAdmin, authenticateKey, type AuthorizerContext } from './http/auth';
import { headerOf } from './http/headers';
import { HttpProblem } from './http/problem';
import { lambda } from './lambda';
import { logger } from './logger';

export type AuthorizerResult = APIGatewaySimpleAuthorizerWithContextResult<AuthorizerContext> | { isAuthorized: true };

/**
 * The API Gateway (HTTP API) Lambda authorizer in front of every keyed route: it authenticates the
 * request, with an account's API key or, on the admin routes of `infra/access.ts` (by the event's
 * `routeKey`), the admin key, and passes its verdict to the route as `context`
 * ({@link AuthorizerContext}), which API Gateway hands over in `requestContext.authorizer.lambda`.
 *
 * It always answers `isAuthorized: true`, also for a bad key: the route answers the 401
 * problem+json of API.md from the verdict (an HTTP API authorizer can only refuse with 403 and API
 * Gateway's own body). It has no identity source and no cache, so it sees every request, with or
 * without `Authorization`, and a revoked key fails on its very next request.
 *
 * Never throws (a throw is API Gateway's bare 500): an unexpected failure (DynamoDB, Secrets
 * Manager) is logged with the request id and answered `unverified`, so the route authenticates the
 * request itself and, if that fails too, answers its 500 problem naming the request id.
 * See docs/aws.md, "Stacks, functions and permissions".
 */
export const make =
  (deps: Deps) =>
  async (event: APIGatewayRequestAuthorizerEventV2): Promise<AuthorizerResult> => {
    const auth = routeAuth(event.routeKey);
    // A public route has no authorizer in front; if it ever gets one, it must not judge its requests.
    if (auth === 'none') return { isAuthorized: true };
    return { isAuthorized: true, context: await verdict(deps, auth, event) };
  };

async function verdict(deps: Deps, auth: 'key' | 'admin', event: APIGatewayRequestAuthorizerEventV2): Promise<AuthorizerContext> {
  const authorization = headerOf(event, 'authorization');
  try {
    if (auth === 'admin') {
      await authenticateAdmin(deps, authorization);
      return { auth, outcome: 'allowed' };
    }
    return { auth, outcome: 'allowed', ...(await authenticateKey(deps, authorization)) };
  } catch (error) {
    if (error instanceof HttpProblem && error.status === 401) return { auth, outcome: 'refused', detail: error.detail ?? error.title };
    if (error instanceof HttpProblem && error.type === 'account_suspended' && auth === 'key') return { auth, outcome: 'suspended' };
    return unverified(auth, event, error);
  }
}

function unverified(auth: 'key' | 'admin', event: Partial<APIGatewayRequestAuthorizerEventV2> | undefined, error: unknown): AuthorizerContext {
  const requestId = event?.requestContext?.requestId ?? 'unknown';
  logger.error('authorizer could not verify the request', { requestId, route: event?.routeKey, authorizer: true, error });
  return { auth, outcome: 'unverified' };
}

const authorize = lambda(make);

/**
 * The Lambda entry. Building the dependencies can only fail on an incomplete environment (a
 * deployment defect); that too is answered `unverified` rather than thrown.
 */
export const handler = async (event: APIGatewayRequestAuthorizerEventV2): Promise<AuthorizerResult> => {
  try {
    return await authorize(event);
  } catch (error) {
    const auth = routeAuth(event?.routeKey ?? '');
    return auth === 'none' ? { isAuthorized: true } : { isAuthorized: true, context: unverified(auth, event, error) };
  }
};

import type { APIGatewayRequestAuthorizerEventV2, APIGatewaySimpleAuthorizerResult } from 'aws-lambda';

/**
 * The API Gateway (HTTP API) Lambda authorizer in front of every keyed route. It has no identity
 * source and no cache, so API Gateway invokes it for every request, with or without an
 * `Authorization` header, and it lets every one through: the route's handler verifies the key and
 * answers 401 problem+json (API.md). Refusing here would answer 403 with API Gateway's own body,
 * and a revoked key must fail at once, which a cached decision could not honour. Never throws (a
 * throw would be a 500). See docs/design-notes.md, "CDK (issue 6)".
 */
export const make = () => async (_event: APIGatewayRequestAuthorizerEventV2): Promise<APIGatewaySimpleAuthorizerResult> => ({
  isAuthorized: true,
});

export const handler = make();

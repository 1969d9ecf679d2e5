import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaAuthorizer, HttpLambdaResponseType } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/** One route of the API: `infra/routes.ts`'s `httpRoutes` entries. */
export interface ApiRoute {
  readonly method: string;
  readonly path: string;
  readonly handler: string;
}

export interface ApiProps {
  /** The routes, each served by the function `functionFor(route.handler)` returns. */
  readonly routes: readonly ApiRoute[];
  readonly functionFor: (handler: string) => lambda.IFunction;
  /** Routes (`'POST /v1/signup'`) served without the authorizer. */
  readonly publicRoutes: ReadonlySet<string>;
  /** The Lambda authorizer (see `functions/api-authorizer.ts`). */
  readonly authorizer: lambda.IFunction;
  /** A custom domain with its ACM certificate in this region. @default none: the execute-api URL */
  readonly domain?: { name: string; certificateArn: string } | null;
  /** Steady-state requests per second for the whole stage. @default 500 */
  readonly rateLimit?: number;
  /** @default 1000 */
  readonly burstLimit?: number;
  /** @default logs.RetentionDays.THREE_MONTHS */
  readonly accessLogRetention?: logs.RetentionDays;
}

/**
 * The public HTTP API (API Gateway v2): one Lambda integration per route of `infra/routes.ts`, a
 * Lambda authorizer in front of every route that needs a key, stage throttling and JSON access logs.
 *
 * The authorizer is a gate, not the judge: it has no identity source and no cache, so API Gateway
 * invokes it for every request to a keyed route, with or without an `Authorization` header, and it
 * lets each one through; the route's handler verifies the key and answers 401 problem+json. An
 * identity source would make API Gateway answer a request without the header itself, with its own
 * `{"message":"Unauthorized"}` body (API.md requires problem+json); an HTTP API authorizer can only
 * refuse with 403 (API.md fixes 401); and a revoked key must fail at once, which a cached decision
 * could not honour. The cost: one short authorizer invocation per keyed request (no cache).
 */
export class Api extends Construct {
  readonly httpApi: apigw.HttpApi;
  readonly stage: apigw.HttpStage;
  readonly accessLogs: logs.LogGroup;
  readonly url: string;
  /** The API-key authorizer every keyed route uses, in this stack or another. */
  readonly authorizer: HttpLambdaAuthorizer;
  private readonly publicRoutes: ReadonlySet<string>;

  constructor(scope: Construct, id: string, props: ApiProps) {
    super(scope, id);
    this.httpApi = new apigw.HttpApi(this, 'HttpApi', {
      description: '算想云 suanxiang-cloud public API (API.md)',
      createDefaultStage: false,
      disableExecuteApiEndpoint: false,
    });
    this.accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.accessLogRetention ?? logs.RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    let domainMapping: apigw.DomainMappingOptions | undefined;
    if (props.domain) {
      const domainName = new apigw.DomainName(this, 'Domain', {
        domainName: props.domain.name,
        certificate: acm.Certificate.fromCertificateArn(this, 'Certificate', props.domain.certificateArn),
      });
      domainMapping = { domainName };
    }
    this.stage = new apigw.HttpStage(this, 'Stage', {
      httpApi: this.httpApi,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: props.rateLimit ?? 500, burstLimit: props.burstLimit ?? 1000 },
      accessLogSettings: {
        destination: new apigw.LogGroupLogDestination(this.accessLogs),
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            ip: '$context.identity.sourceIp',
            requestTime: '$context.requestTime',
            method: '$context.httpMethod',
            routeKey: '$context.routeKey',
            status: '$context.status',
            protocol: '$context.protocol',
            responseLength: '$context.responseLength',
            latencyMs: '$context.responseLatency',
            integrationLatencyMs: '$context.integrationLatency',
            integrationError: '$context.integration.error',
            authorizerError: '$context.authorizer.error',
            userAgent: '$context.identity.userAgent',
          }),
        ),
      },
      ...(domainMapping ? { domainMapping } : {}),
    });
    this.url = props.domain ? `https://${props.domain.name}/` : this.stage.url;

    // No identity source, so no 401 from API Gateway itself; caching requires one, so it is off (TTL 0).
    this.authorizer = new HttpLambdaAuthorizer('ApiKey', props.authorizer, {
      authorizerName: 'api-key',
      identitySource: [],
      responseTypes: [HttpLambdaResponseType.SIMPLE],
      resultsCacheTtl: Duration.seconds(0),
    });
    this.publicRoutes = props.publicRoutes;
    this.addRoutes(this.httpApi, props.routes, props.functionFor);
    // CDK renders `identitySource: []` as an empty list; leave the property out, as the API
    // Gateway reference describes an authorizer without identity sources.
    for (const child of this.httpApi.node.findAll()) {
      if (child instanceof apigw.CfnAuthorizer) child.addPropertyDeletionOverride('IdentitySource');
    }
  }

  /**
   * Adds routes to this API, each served by `functionFor(route.handler)`, behind the API-key authorizer
   * unless public. `scope` may be in another stack of the same region (a stack of routes, see
   * `infra/cdk/route-stack.ts`): the routes, their integrations and invoke permissions are then
   * resources of that stack, which refers to this API and its authorizer by their ids.
   */
  addRoutes(scope: Construct, routes: readonly ApiRoute[], functionFor: (handler: string) => lambda.IFunction): apigw.HttpRoute[] {
    const created: apigw.HttpRoute[] = [];
    for (const route of routes) {
      const key = `${route.method} ${route.path}`;
      const isPublic = this.publicRoutes.has(key);
      const method = route.method as apigw.HttpMethod;
      const httpRoute = new apigw.HttpRoute(scope, `${method}${route.path}`, {
        httpApi: this.httpApi,
        routeKey: apigw.HttpRouteKey.with(route.path, method),
        integration: new HttpLambdaIntegration(`Integration ${key.replaceAll('/', '|')}`, functionFor(route.handler)),
        ...(isPublic ? {} : { authorizer: this.authorizer }),
      });
      if (isPublic) {
        Validations.of(httpRoute).acknowledge({
          id: 'AwsSolutions-APIG4',
          reason: `${key} is public by API.md (no API key exists yet at signup; the OpenAPI document is public).`,
        });
      }
      created.push(httpRoute);
    }
    return created;
  }
}

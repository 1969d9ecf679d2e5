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
 * The authorizer is a gate, not the judge: API Gateway answers 401 itself when the `Authorization`
 * header is missing (without invoking anything), and the authorizer lets every request that has one
 * through, its answer cached per header value. The handler then verifies the key: an HTTP API
 * authorizer can only refuse with 403, and API.md fixes 401 (problem+json) for a wrong key and
 * requires a revoked key to fail at once, which a cached authorizer decision could not honour.
 */
export class Api extends Construct {
  readonly httpApi: apigw.HttpApi;
  readonly stage: apigw.HttpStage;
  readonly accessLogs: logs.LogGroup;
  readonly url: string;

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

    const authorizer = new HttpLambdaAuthorizer('ApiKey', props.authorizer, {
      authorizerName: 'api-key',
      identitySource: ['$request.header.Authorization'],
      responseTypes: [HttpLambdaResponseType.SIMPLE],
      resultsCacheTtl: Duration.minutes(5),
    });

    for (const route of props.routes) {
      const key = `${route.method} ${route.path}`;
      const isPublic = props.publicRoutes.has(key);
      const [created] = this.httpApi.addRoutes({
        path: route.path,
        methods: [route.method as apigw.HttpMethod],
        integration: new HttpLambdaIntegration(`Integration ${key.replaceAll('/', '|')}`, props.functionFor(route.handler)),
        ...(isPublic ? {} : { authorizer }),
      });
      if (isPublic && created) {
        Validations.of(created).acknowledge({
          id: 'AwsSolutions-APIG4',
          reason: `${key} is public by API.md (no API key exists yet at signup; the OpenAPI document is public).`,
        });
      }
    }
  }
}

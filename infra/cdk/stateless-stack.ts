import { Annotations, CfnOutput, Duration, Fn, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as lambdaDestinations from 'aws-cdk-lib/aws-lambda-destinations';
import * as logsDestinations from 'aws-cdk-lib/aws-logs-destinations';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { defaultPolicy } from '../../domain/policy';
import { readSettings, ServiceSettings } from '../../functions/env';
import { defaultAccess, handlerAccess, publicRoutes as defaultPublicRoutes, type HandlerAccess, type HandlerKind } from '../access';
import * as routes from '../routes';
import { Alarms } from './constructs/alarms';
import { Api, type ApiRoute } from './constructs/api';
import { AppFunction } from './constructs/app-function';
import { BatchCompute } from './constructs/batch-compute';
import { Console } from './constructs/console';
import { EventRouting, type EventRoute } from './constructs/event-routing';
import { Projections, type StreamConsumer } from './constructs/projections';
import { deadLetterQueue } from './constructs/queues';
import { Schedules, type ScheduleRoute } from './constructs/schedules';
import { partitionOf, type RegionConfig } from './regions';
import type { StatefulStack } from './stateful-stack';

/** The tables of `infra/routes.ts` (the same the local stack reads). */
export interface RouteTables {
  readonly httpRoutes: readonly ApiRoute[];
  readonly streamConsumers: readonly StreamConsumer[];
  readonly eventRules: readonly EventRoute[];
  readonly schedules: readonly ScheduleRoute[];
  /** Functions fed by a subscription filter on the job log group. @default none */
  readonly logSubscriptions?: ReadonlyArray<{ readonly name: string; readonly handler: string }>;
}

/** The route tables as `infra/routes.ts` declares them (`schedules` only once it exists there). */
export const declaredRoutes: RouteTables = {
  httpRoutes: routes.httpRoutes,
  streamConsumers: routes.streamConsumers,
  eventRules: routes.eventRules,
  schedules: (routes as { schedules?: readonly ScheduleRoute[] }).schedules ?? [],
  logSubscriptions: routes.logSubscriptions,
};

/**
 * The default stop grace (API.md: 30 s). A region's `SX_STOP_GRACE_SECONDS` setting changes what the
 * functions hold and tell each job and the nodes' ECS stop timeout together, so the two cannot differ.
 */
export const STOP_GRACE_SECONDS = defaultPolicy.stopGraceSeconds;

/** The authorizer's module, `functions/api-authorizer.ts`: a function of its own, in no route table. */
export const AUTHORIZER_HANDLER = 'api-authorizer';

/** The one reader of the events stream, `functions/forward-events.ts`: a function of its own, in no route table. */
export const FORWARDER_HANDLER = 'forward-events';

/** Every handler the stack deploys a function for: each one any table names, and the authorizer. */
export function handlerNames(tables: RouteTables = declaredRoutes): string[] {
  const all = [...tables.httpRoutes, ...tables.streamConsumers, ...tables.eventRules, ...tables.schedules, ...(tables.logSubscriptions ?? [])].map(
    (r) => r.handler,
  );
  return [...new Set([...all, AUTHORIZER_HANDLER, FORWARDER_HANDLER])];
}

export interface StatelessStackProps extends StackProps {
  readonly prefix: string;
  readonly config: RegionConfig;
  readonly stateful: StatefulStack;
  /** @default declaredRoutes (infra/routes.ts) */
  readonly routes?: RouteTables;
  /** @default handlerAccess (infra/access.ts) */
  readonly access?: Record<string, HandlerAccess>;
  /** @default publicRoutes (infra/access.ts) */
  readonly publicRoutes?: ReadonlySet<string>;
  /** A handler's code. @default its bundle in `.build/lambda` (see `bundleHandlers`) */
  readonly codeFor?: (handler: string) => lambda.Code;
  /** The built web console (console/build.ts) to serve with the API behind CloudFront. @default no console */
  readonly consoleDir?: string;
}

/**
 * Everything that can be replaced without losing data, per region: the functions (one per handler
 * named in `infra/routes.ts`), the HTTP API, the stream projections, the event rules, the
 * schedules, Batch and its network, and the alarms. Each function is granted exactly what
 * `infra/access.ts` declares for it.
 */
export class StatelessStack extends Stack {
  readonly functions: Record<string, AppFunction> = {};
  readonly api: Api;
  readonly compute: BatchCompute;
  readonly projections: Projections;
  readonly eventRouting: EventRouting;
  readonly schedules: Schedules;
  readonly alarms: Alarms;
  /** The web console and the API on one CloudFront origin, when `consoleDir` is given. */
  readonly console?: Console;
  /** The environment every function gets: exactly `LambdaEnv` (functions/env.ts). */
  readonly lambdaEnvironment: Record<string, string>;
  private readonly stateful: StatefulStack;
  /** What each handler may use (infra/access.ts). */
  readonly access: Record<string, HandlerAccess>;
  private readonly busName: string;
  private readonly codeFor?: (handler: string) => lambda.Code;

  constructor(scope: Construct, id: string, props: StatelessStackProps) {
    super(scope, id, props);
    const { prefix, config, stateful } = props;
    this.codeFor = props.codeFor;
    const tables = props.routes ?? declaredRoutes;
    const access = props.access ?? handlerAccess;
    this.stateful = stateful;
    this.access = access;
    this.busName = `${prefix}-events`;
    const { events, views } = stateful.eventStore;
    const { bucket, jobLogs, adminKey } = stateful.storage;
    // Checked with the schema the functions read them with: a value they would refuse fails the synth.
    const settings = readSettings(ServiceSettings, config.settings, `settings of ${config.region}`);

    this.compute = new BatchCompute(this, 'Compute', {
      prefix,
      maxOnDemandNodes: config.p4d.maxOnDemandNodes,
      maxSpotNodes: config.p4d.maxSpotNodes,
      spot: config.spot,
      jobLogs,
      jobFilesPolicy: stateful.storage.nodeJobFilesPolicy,
      stopGraceSeconds: settings.SX_STOP_GRACE_SECONDS,
      maxAzs: config.maxAzs,
      p4dZones: config.p4dZones,
      // Batch in the China regions has no EFA (docs/deploy.md).
      efa: partitionOf(config.region) !== 'aws-cn',
      // s5cmd comes from GitHub, which the China regions do not reach reliably: the AWS CLI there.
      s5cmd: partitionOf(config.region) !== 'aws-cn',
      natGateways: config.natGateways,
    });

    this.lambdaEnvironment = {
      SX_EVENTS_TABLE: events.tableName,
      SX_VIEWS_TABLE: views.tableName,
      SX_METRICS_TABLE: stateful.eventStore.metrics.tableName,
      SX_JOB_QUEUE_ON_DEMAND: this.compute.names.onDemandQueue,
      SX_JOB_QUEUE_SPOT: this.compute.names.spotQueue,
      SX_JOB_DEFINITION_SINGLE_NODE: this.compute.names.singleNode,
      SX_JOB_DEFINITION_MULTI_NODE: this.compute.names.multiNode,
      SX_OUTPUT_BUCKET: bucket.bucketName,
      SX_URL_SIGNER_ROLE_ARN: stateful.storage.urlSigner.roleArn,
      SX_JOB_LOG_GROUP: jobLogs.logGroupName,
      SX_ADMIN_KEY_SECRET: adminKey.secretArn,
      SX_COMPUTE_ENVIRONMENTS: Fn.join(',', this.compute.computeEnvironmentArns),
      // The region's service settings (prices, sweeps) as given, read by buildDeps as the local stack reads them.
      ...config.settings,
      SX_STOP_GRACE_SECONDS: String(settings.SX_STOP_GRACE_SECONDS),
    };

    const busName = this.busName;
    // Every handler named in any table, with the kind of the first table naming it.
    const kinds = new Map<string, HandlerKind>();
    const note = (kind: HandlerKind, handlers: readonly { handler: string }[]) =>
      handlers.forEach(({ handler }) => kinds.has(handler) || kinds.set(handler, kind));
    note('http', tables.httpRoutes);
    note('stream', tables.streamConsumers);
    note('event', tables.eventRules);
    note('schedule', tables.schedules);
    note('logs', tables.logSubscriptions ?? []);
    const scheduled = new Set(tables.schedules.map((s) => s.handler));

    const functionsScope = new Construct(this, 'Functions');
    for (const [handler, kind] of kinds) {
      this.functions[handler] = this.addFunction(functionsScope, handler, kind, { scheduled: scheduled.has(handler) });
    }
    // The authorizer reads API key streams (and the admin key for admin routes): what access.ts declares.
    const authorizerNeeds = access[AUTHORIZER_HANDLER] ?? {};
    const authorizer = new AppFunction(functionsScope, AUTHORIZER_HANDLER, {
      handler: AUTHORIZER_HANDLER,
      environment: this.lambdaEnvironment,
      ...(props.codeFor ? { code: props.codeFor(AUTHORIZER_HANDLER) } : {}),
      memoryMb: authorizerNeeds.memoryMb ?? 256,
      timeout: Duration.seconds(authorizerNeeds.timeoutSeconds ?? 3),
    });
    this.grant(authorizer, authorizerNeeds, stateful, busName);
    this.functions[AUTHORIZER_HANDLER] = authorizer;
    const functionFor = (handler: string) => {
      const fn = this.functions[handler];
      if (!fn) throw new Error(`No function for handler ${handler}`);
      return fn;
    };

    this.api = new Api(this, 'Api', {
      routes: tables.httpRoutes,
      functionFor: (h) => functionFor(h).function,
      publicRoutes: props.publicRoutes ?? defaultPublicRoutes,
      authorizer: authorizer.function,
      domain: config.domain,
    });
    // Reads only the stream (granted by its event source) and sends to the projections' queues (granted by Projections).
    const forwarder = new AppFunction(functionsScope, FORWARDER_HANDLER, {
      handler: FORWARDER_HANDLER,
      environment: this.lambdaEnvironment,
      ...(props.codeFor ? { code: props.codeFor(FORWARDER_HANDLER) } : {}),
      memoryMb: 256,
      timeout: Duration.seconds(60),
    });
    this.functions[FORWARDER_HANDLER] = forwarder;
    this.projections = new Projections(this, 'Projections', { table: events, consumers: tables.streamConsumers, functionFor, forwarder });
    // The default bus carries every Batch job of the account: take only those of our own queues.
    const rules = tables.eventRules.map((r) =>
      (r.pattern.source ?? []).includes('aws.batch') ? { ...r, detail: { jobQueue: this.compute.queueArns } } : r,
    );
    this.eventRouting = new EventRouting(this, 'Events', { busName, rules, functionFor });
    this.schedules = new Schedules(this, 'Schedules', { schedules: tables.schedules, functionFor, groupName: prefix });
    // Every event of the job log group goes to these (LambdaDestination also lets CloudWatch Logs invoke them).
    // CloudWatch Logs invokes asynchronously: once Lambda's two retries are spent (a stream not indexed
    // yet, a throttled table), the batch (its whole invocation payload, to redrive) goes to an on-failure
    // queue whose depth alarm pages, instead of being dropped.
    const logSubscriptionFailures: Record<string, sqs.Queue> = {};
    for (const subscription of tables.logSubscriptions ?? []) {
      const target = functionFor(subscription.handler).function;
      new logs.SubscriptionFilter(this, `LogSubscription-${subscription.name}`, {
        logGroup: jobLogs,
        destination: new logsDestinations.LambdaDestination(target),
        filterPattern: logs.FilterPattern.allEvents(),
        filterName: `${prefix}-${subscription.name}`,
      });
      const onFailure = deadLetterQueue(this, `LogSubscription-${subscription.name}-on-failure`);
      target.configureAsyncInvoke({ onFailure: new lambdaDestinations.SqsDestination(onFailure), retryAttempts: 2, maxEventAge: Duration.hours(6) });
      logSubscriptionFailures[`${subscription.name} on-failure`] = onFailure;
    }

    this.alarms = new Alarms(this, 'Alarms', {
      email: config.alarmEmail,
      api: this.api.httpApi,
      deadLetterQueues: {
        'forward-events on-failure': this.projections.forwarding.onFailure,
        'projections dlq': this.projections.deadLetters,
        ...logSubscriptionFailures,
        ...Object.fromEntries(Object.entries(this.eventRouting.rules).map(([n, r]) => [`${n} dlq`, r.dlq])),
        ...(this.schedules.dlq ? { 'schedules dlq': this.schedules.dlq } : {}),
      },
      streamConsumers: { [FORWARDER_HANDLER]: forwarder.function },
      projectionQueues: Object.fromEntries(Object.entries(this.projections.mappings).map(([n, m]) => [n, m.queue])),
      functions: Object.fromEntries(Object.entries(this.functions).map(([n, f]) => [n, f.function])),
    });

    // CloudFront in the China regions serves only an ICP-registered custom domain with an IAM-uploaded
    // certificate, and has no origin access control: the console is left out there (docs/deploy.md).
    if (props.consoleDir && partitionOf(config.region) === 'aws-cn') {
      Annotations.of(this).addInfo('The web console is not deployed in the China regions: CloudFront there needs an ICP-registered domain (docs/deploy.md).');
    } else if (props.consoleDir) {
      this.console = new Console(this, 'Console', {
        assetsDir: props.consoleDir,
        httpApi: this.api.httpApi,
        accessLogs: stateful.storage.accessLogs,
        // File uploads go from the browser straight to the data bucket by signed URLs.
        connectSources: [`https://${bucket.bucketRegionalDomainName}`],
      });
      new CfnOutput(this, 'ConsoleUrl', { value: this.console.url });
      this.allowBrowserUploads(bucket, this.console.url);
    }

    this.acknowledgeFindings();
    new CfnOutput(this, 'ApiUrl', { value: this.api.url });
    new CfnOutput(this, 'OnDemandQueue', { value: this.compute.names.onDemandQueue });
    new CfnOutput(this, 'AlarmTopic', { value: this.alarms.topic.topicArn });
  }

  /**
   * One function for `handler` under `scope` (in this stack, or in a stack of routes of this region),
   * granted exactly what `infra/access.ts` declares for it (the default of its kind, with a warning,
   * when it declares nothing).
   */
  addFunction(
    scope: Construct,
    handler: string,
    kind: HandlerKind,
    options: { scheduled?: boolean; environment?: Record<string, string>; codeFor?: (handler: string) => lambda.Code } = {},
  ): AppFunction {
    let needs = this.access[handler];
    if (!needs) {
      needs = defaultAccess[kind];
      Annotations.of(scope).addWarningV2(
        `sx:undeclared-access:${handler}`,
        `${handler} has no entry in infra/access.ts; it gets the default for a ${kind} handler. Declare what it uses to narrow it.`,
      );
    }
    const codeFor = options.codeFor ?? this.codeFor;
    const fn = new AppFunction(scope, handler.replaceAll('/', '-'), {
      handler,
      environment: options.environment ?? this.lambdaEnvironment,
      ...(codeFor ? { code: codeFor(handler) } : {}),
      memoryMb: needs.memoryMb ?? 512,
      timeout: Duration.seconds(needs.timeoutSeconds ?? (kind === 'http' ? 10 : 60)),
      ...(options.scheduled ? { reservedConcurrency: 1 } : {}),
    });
    this.grant(fn, needs, this.stateful, this.busName);
    // Every route counts its requests (functions/http/rate-limits.ts): its own counter items only.
    if (kind === 'http') {
      fn.allow(['dynamodb:GetItem', 'dynamodb:UpdateItem'], [this.stateful.eventStore.views.tableArn], { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['ratelimit#*'] } });
    }
    Validations.of(fn).acknowledge({
      id: 'AwsSolutions-L1',
      reason: 'Node.js 22 is the runtime this project targets and tests (DESIGN.md); moving to a newer runtime is a deliberate upgrade.',
    });
    return fn;
  }

  /** Grants one function exactly what `needs` declares. */
  private grant(fn: AppFunction, needs: HandlerAccess, stateful: StatefulStack, busName: string): void {
    const { events, views } = stateful.eventStore;
    const tableActions = (verbs: readonly string[] = []) => [
      ...(verbs.includes('read') ? ['GetItem', 'Query'] : []),
      // Appends are conditional puts, alone or in TransactWriteItems (whose Put and ConditionCheck need these).
      ...(verbs.includes('append') ? ['PutItem', 'ConditionCheckItem'] : []),
      // Views are upserted, updated in place (idempotency records, delivery bookkeeping) and deleted
      // (active jobs, ledger entries, due deliveries), alone or in TransactWriteItems.
      ...(verbs.includes('write') ? ['PutItem', 'UpdateItem', 'DeleteItem'] : []),
    ];
    fn.allowTable(events, tableActions(needs.events));
    fn.allowTable(views, tableActions(needs.views));
    fn.allowTable(stateful.eventStore.metrics, [
      ...(needs.metrics?.includes('read') ? ['GetItem', 'Query'] : []),
      ...(needs.metrics?.includes('write') ? ['PutItem', 'UpdateItem', 'BatchWriteItem'] : []),
    ]);

    const batch = needs.batch ?? [];
    if (batch.includes('submit')) {
      // The project's job definitions, every revision, and the per-image ones derived from them
      // (named `<template>-<hash>`: Batch cannot override a job's image at submission).
      const definitions = [this.compute.names.singleNode, this.compute.names.multiNode].flatMap((def) => [
        fn.arn('batch', `job-definition/${def}:*`),
        fn.arn('batch', `job-definition/${def}-*`),
      ]);
      fn.allow(['batch:SubmitJob'], [...this.compute.queueArns, ...definitions]);
      fn.allow(['batch:RegisterJobDefinition'], definitions);
      // SubmitJob and RegisterJobDefinition with tags also need TagResource on what they create.
      fn.allow(['batch:TagResource'], [fn.arn('batch', 'job/*')], { StringEquals: { 'batch:CreateAction': 'SubmitJob' } });
      fn.allow(['batch:TagResource'], definitions, { StringEquals: { 'batch:CreateAction': 'RegisterJobDefinition' } });
      fn.allow(['batch:DescribeJobDefinitions'], ['*']);
      Validations.of(fn).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'batch:DescribeJobDefinitions supports no resource-level permissions; it reads definitions only.',
      });
      for (const def of [this.compute.names.singleNode, this.compute.names.multiNode]) {
        Validations.of(fn).acknowledge({
          id: `AwsSolutions-IAM5[Resource::${fn.nagArn('batch', `job-definition/${def}-*`)}]`,
          reason: 'The per-image revisions derived from the project job definition (named after it and a hash of the image).',
        });
      }
    }
    if (batch.includes('scale')) {
      fn.allow(['batch:UpdateComputeEnvironment'], this.compute.computeEnvironmentArns);
      fn.allow(['batch:DescribeComputeEnvironments'], ['*']);
      Validations.of(fn).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'batch:DescribeComputeEnvironments supports no resource-level permissions; the function reads only the ARNs in SX_COMPUTE_ENVIRONMENTS.',
      });
    }
    if (batch.includes('terminate')) fn.allow(['batch:TerminateJob'], [fn.arn('batch', 'job/*')]);
    if (batch.includes('describe')) {
      fn.allow(['batch:DescribeJobs', 'batch:ListJobs'], ['*']);
      Validations.of(fn).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'batch:DescribeJobs and batch:ListJobs support no resource-level permissions; they read job status only.',
      });
    }
    if (batch.includes('submit') || batch.includes('terminate')) {
      Validations.of(fn).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${fn.nagArn('batch', 'job/*')}]`,
        reason: 'Batch job ARNs carry ids Batch assigns at submission, so jobs can only be named by pattern; queues and job definitions are exact.',
      });
      for (const def of [this.compute.names.singleNode, this.compute.names.multiNode]) {
        Validations.of(fn).acknowledge({
          id: `AwsSolutions-IAM5[Resource::${fn.nagArn('batch', `job-definition/${def}:*`)}]`,
          reason: 'Every revision of the project job definition (revisions are numbered by Batch).',
        });
      }
    }
    if (needs.jobLogs) {
      // The group's Arn attribute ends in `:*`: its log streams (one per job attempt, named by Batch).
      fn.allow(['logs:GetLogEvents', 'logs:FilterLogEvents'], [stateful.storage.jobLogs.logGroupArn]);
    }
    if (needs.adminKey) stateful.storage.adminKey.grantRead(fn.role);
    // The data bucket, one managed policy (defined beside the bucket) per kind of access, each on one prefix.
    for (const kind of needs.objects ?? []) fn.role.addManagedPolicy(stateful.storage.objectPolicies[kind]);
    if (needs.bus) fn.allow(['events:PutEvents'], [fn.arn('events', `event-bus/${busName}`)]);
  }

  /**
   * The data bucket's CORS rule: the console's pages (and no other origin's) may PUT parts to signed
   * URLs, read each part's ETag, and GET signed downloads. The signature is still the authorization.
   * Set here, by an SDK call at deploy time, because only this stack knows the console's origin.
   */
  private allowBrowserUploads(bucket: StatefulStack['storage']['bucket'], origin: string): void {
    const cors = new cr.AwsCustomResource(this, 'DataBucketCors', {
      onUpdate: {
        service: 'S3',
        action: 'putBucketCors',
        parameters: { Bucket: bucket.bucketName, CORSConfiguration: { CORSRules: [browserCorsRule(origin)] } },
        physicalResourceId: cr.PhysicalResourceId.of(`${bucket.bucketName}-cors`),
      },
      onDelete: { service: 'S3', action: 'deleteBucketCors', parameters: { Bucket: bucket.bucketName } },
      // PutBucketCors and DeleteBucketCors are both s3:PutBucketCORS, on this bucket only.
      policy: cr.AwsCustomResourcePolicy.fromStatements([new iam.PolicyStatement({ actions: ['s3:PutBucketCORS'], resources: [bucket.bucketArn] })]),
      installLatestAwsSdk: false,
    });
    const provider = this.node.tryFindChild(`AWS${cr.AwsCustomResource.PROVIDER_FUNCTION_UUID.replaceAll('-', '')}`);
    for (const scope of [cors, ...(provider ? [provider] : [])]) {
      Validations.of(scope).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason: "aws-cdk-lib's AwsCustomResource handler writes its own logs with the basic execution policy; it runs only during deployments.",
      });
      Validations.of(scope).acknowledge({ id: 'AwsSolutions-L1', reason: "The AwsCustomResource handler runtime is chosen and updated by aws-cdk-lib itself, not by this project." });
    }
  }

  /** Findings that hold for the whole stack, each with its reason. */
  private acknowledgeFindings(): void {
    for (const fn of Object.values(this.functions)) {
      Validations.of(fn).acknowledge({
        id: 'AwsSolutions-L1',
        reason: 'Node.js 22 is the runtime this project targets and tests (DESIGN.md); moving to a newer runtime is a deliberate upgrade.',
      });
    }
  }
}

/** The CORS rule of the data bucket for a browser origin (S3's CORSRule shape; the local object server serves the same). */
export const browserCorsRule = (origin: string) => ({
  AllowedOrigins: [origin],
  AllowedMethods: ['PUT', 'GET', 'HEAD'],
  AllowedHeaders: ['content-type', 'content-length', 'content-md5', 'x-amz-*'],
  ExposeHeaders: ['ETag'],
  MaxAgeSeconds: 3600,
});

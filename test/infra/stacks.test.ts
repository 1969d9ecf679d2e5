import { gunzipSync } from 'node:zlib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { defaultPolicy } from '../../domain/policy';
import { COMPUTE_ATTEMPTS } from '../../functions/adapters/compute';
import { InMemoryEventStore } from '../../functions/adapters/in-memory-event-store';
import { make as makeAuthorizer } from '../../functions/api-authorizer';
import type { Deps } from '../../functions/deps';
import { LambdaEnv } from '../../functions/env';
import { json, route } from '../../functions/http/route';
import { handlerAccess, publicRoutes } from '../../infra/access';
import { CONTAINER_CHECKPOINT_DIR, CONTAINER_ENTRYPOINT, CONTAINER_INPUT_DIR, CONTAINER_OUTPUT_DIR, MAX_ATTEMPT_SECONDS } from '../../functions/adapters/batch-job-definitions';
import { nodeScript } from '../../infra/cdk/constructs/batch-compute';
import type { StatefulStack } from '../../infra/cdk/stateful-stack';
import { declaredRoutes, STOP_GRACE_SECONDS, type StatelessStack } from '../../infra/cdk/stateless-stack';
import { eventRules, httpRoutes, logSubscriptions, streamConsumers } from '../../infra/routes';
import { tables } from '../../infra/tables';
import { buildTestApp, resourcesOf, SYNTH_TIMEOUT_MS } from './cdk-app';
import { routeGroups, splitRoutes, type RouteStack } from '../../infra/cdk/route-stack';
import { InMemoryRequestCounter } from '../../functions/http/rate-limits';

/** A launch template's user data as text: `Fn::Base64` of a string, or of an `Fn::Join` of strings and tokens. */
function userDataOf(userData: any): string {
  const value = userData['Fn::Base64'];
  if (typeof value === 'string') return value;
  const [sep, parts] = value['Fn::Join'];
  return parts.map((p: unknown) => (typeof p === 'string' ? p : '${token}')).join(sep);
}

/** The node script a user-data script installs at `path` (gzipped and base64-encoded there), as text. */
function installedScript(userData: string, path: string): string {
  const start = userData.indexOf(`base64 -d <<'SX_EOF' | gunzip > ${path}\n`);
  if (start < 0) throw new Error(`${path} is not installed`);
  const body = userData.slice(userData.indexOf('\n', start) + 1, userData.indexOf('\nSX_EOF\n', start));
  expect(userData.slice(start)).toContain(`SX_EOF\nchmod 0755 ${path}\n`);
  return gunzipSync(Buffer.from(body.replaceAll('\n', ''), 'base64')).toString('utf8');
}

/** What every function may do for active tracing (on `*`: X-Ray has no resource-level permissions). */
const XRAY_ACTIONS = ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'];

// Building and synthesizing CDK apps is slow on a busy machine (see SYNTH_TIMEOUT_MS).
vi.setConfig({ testTimeout: SYNTH_TIMEOUT_MS, hookTimeout: SYNTH_TIMEOUT_MS });

// One synthesis for the whole file (it is the slow part). A schedule that is not in routes.ts (and
// whose handler has no entry in infra/access.ts) is added to exercise the Schedules construct and
// the default-access path; everything else is the real configuration for us-east-1.
const SAMPLE_SCHEDULE = { name: 'sample-sweep', handler: 'sample-sweep', rateSeconds: 90 };
let stateful: StatefulStack;
let stateless: StatelessStack;
let template: Template;
let app: Template;
let routeStacks: Record<string, RouteStack>;
beforeAll(() => {
  const { stacks } = buildTestApp({
    only: 'us-east-1',
    overrides: { routes: { ...declaredRoutes, schedules: [...declaredRoutes.schedules, SAMPLE_SCHEDULE] } },
  });
  ({ stateful, stateless, routes: routeStacks } = stacks['us-east-1']!);
  template = Template.fromStack(stateful);
  app = Template.fromStack(stateless);
}, SYNTH_TIMEOUT_MS);

describe('stateful stack (us-east-1)', () => {

  it('has the tables of infra/tables.ts with PITR, deletion protection and retention, and NEW_IMAGE on events', () => {
    template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      TableName: 'sx-events',
      KeySchema: [
        { AttributeName: tables.events.partitionKey.name, KeyType: 'HASH' },
        { AttributeName: tables.events.sortKey.name, KeyType: 'RANGE' },
      ],
      StreamSpecification: { StreamViewType: 'NEW_IMAGE' },
      BillingMode: 'PAY_PER_REQUEST',
      Replicas: [Match.objectLike({ PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true }, DeletionProtectionEnabled: true })],
    });
    template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      TableName: 'sx-views',
      StreamSpecification: Match.absent(),
      Replicas: [Match.objectLike({ PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true }, DeletionProtectionEnabled: true })],
    });
    // Metric points expire after the retention period.
    template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      TableName: 'sx-metrics',
      StreamSpecification: Match.absent(),
      TimeToLiveSpecification: { AttributeName: tables.metrics.timeToLiveAttribute, Enabled: true },
    });
    for (const table of Object.values(resourcesOf(template, 'AWS::DynamoDB::GlobalTable'))) {
      expect(table).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    }
  });

  it('enables TTL on the attribute infra/tables.ts declares, so idempotency records and delivery logs expire', () => {
    template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      TableName: 'sx-views',
      TimeToLiveSpecification: { AttributeName: tables.views.timeToLiveAttribute, Enabled: true },
    });
    template.hasResourceProperties('AWS::DynamoDB::GlobalTable', { TableName: 'sx-events', TimeToLiveSpecification: Match.absent() });
  });

  it('has an encrypted, versioned, private output bucket with access logs and lifecycle rules', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      VersioningConfiguration: { Status: 'Enabled' },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      LoggingConfiguration: Match.objectLike({ LogFilePrefix: 'outputs/' }),
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          // An upload has 24 h; the sweep aborts it then, this rule is the backstop.
          Match.objectLike({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } }),
          Match.objectLike({ NoncurrentVersionExpiration: { NoncurrentDays: 7 } }),
          Match.objectLike({ Prefix: 'checkpoints/', ExpirationInDays: 30, Status: 'Enabled' }),
          Match.objectLike({ Prefix: 'runs/', ExpirationInDays: 30, Status: 'Enabled' }),
          Match.objectLike({ Prefix: 'outputs/', Transitions: [{ StorageClass: 'STANDARD_IA', TransitionInDays: 30 }] }),
        ]),
      },
    });
  });

  it('gives the functions one managed policy per kind of data access, each on its own prefixes of the bucket', () => {
    const bucketArn = { 'Fn::GetAtt': [stateful.getLogicalId(stateful.storage.bucket.node.defaultChild as any), 'Arn'] };
    const under = (prefix: string) => ({ 'Fn::Join': ['', [bucketArn, `/${prefix}/*`]] });
    const listing = (action: string, prefixes: string[]) => ({ Effect: 'Allow', Action: action, Resource: bucketArn, Condition: { StringLike: { 's3:prefix': prefixes } } });
    const policy = (construct: any) => resourcesOf(template, 'AWS::IAM::ManagedPolicy')[stateful.getLogicalId(construct.node.defaultChild ?? construct)]!.Properties.PolicyDocument.Statement;
    const { objectPolicies } = stateful.storage;
    expect(policy(objectPolicies['upload-files'])).toEqual([
      { Effect: 'Allow', Action: ['s3:AbortMultipartUpload', 's3:ListMultipartUploadParts', 's3:PutObject'], Resource: under('files') },
    ]);
    expect(policy(objectPolicies['read-files'])).toEqual([{ Effect: 'Allow', Action: 's3:GetObject', Resource: under('files') }, listing('s3:ListBucket', ['files/*'])]);
    expect(policy(objectPolicies['delete-files'])).toEqual([{ Effect: 'Allow', Action: 's3:DeleteObject', Resource: under('files') }]);
    // Listing only: what the listing's URLs may read is the URL signer's, narrowed per job.
    expect(policy(objectPolicies['list-outputs'])).toEqual([listing('s3:ListBucket', ['outputs/*', 'checkpoints/*'])]);
    const signerArn = { 'Fn::GetAtt': [stateful.getLogicalId(stateful.storage.urlSigner.node.defaultChild as any), 'Arn'] };
    expect(policy(objectPolicies['sign-urls'])).toEqual([{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: signerArn }]);
    expect(policy(objectPolicies['read-runs'])).toEqual([{ Effect: 'Allow', Action: 's3:GetObject', Resource: under('runs') }, listing('s3:ListBucket', ['runs/*'])]);
    expect(policy(objectPolicies['sweep-uploads'])).toEqual([
      { Effect: 'Allow', Action: 's3:AbortMultipartUpload', Resource: under('files') },
      // No prefix condition: ListBucketMultipartUploads has no s3:prefix key, so one would never match.
      { Effect: 'Allow', Action: 's3:ListBucketMultipartUploads', Resource: bucketArn },
    ]);
  });

  it("bounds every URL signer session by the signer's own grants, which only the account's principals allowed to may assume, for at most an hour", () => {
    const bucketArn = { 'Fn::GetAtt': [stateful.getLogicalId(stateful.storage.bucket.node.defaultChild as any), 'Arn'] };
    const under = (prefix: string) => ({ 'Fn::Join': ['', [bucketArn, `/${prefix}/*`]] });
    const role = resourcesOf(template, 'AWS::IAM::Role')[stateful.getLogicalId(stateful.storage.urlSigner.node.defaultChild as any)]!.Properties;
    expect(role.AssumeRolePolicyDocument.Statement).toEqual([
      { Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { AWS: { 'Fn::Join': ['', ['arn:aws:iam::', { Ref: 'AWS::AccountId' }, ':root']] } } },
    ]);
    expect(role.MaxSessionDuration).toBe(3600);
    expect(role.ManagedPolicyArns).toBeUndefined();
    expect(role.Policies).toEqual([
      {
        PolicyName: 'signing',
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            { Effect: 'Allow', Action: 's3:PutObject', Resource: under('files') },
            { Effect: 'Allow', Action: 's3:GetObject', Resource: [under('checkpoints'), under('files'), under('outputs')] },
          ],
        },
      },
    ]);
  });

  it('leaves the CORS rule of the data bucket to the stateless stack, which knows the console origin', () => {
    const bucket = resourcesOf(template, 'AWS::S3::Bucket')[stateful.getLogicalId(stateful.storage.bucket.node.defaultChild as any)]!;
    expect(bucket.Properties.CorsConfiguration).toBeUndefined();
  });

  it('denies every request to the buckets that is not over TLS (1.2 or later for outputs)', () => {
    const policies = Object.values(resourcesOf(template, 'AWS::S3::BucketPolicy'));
    expect(policies).toHaveLength(2);
    for (const policy of policies) {
      expect(policy.Properties.PolicyDocument.Statement).toEqual(
        expect.arrayContaining([expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
      );
    }
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } } })]) },
    });
  });

  it('keeps the admin key in Secrets Manager and job logs in a retained log group', () => {
    template.hasResource('AWS::SecretsManager::Secret', {
      DeletionPolicy: 'Retain',
      Properties: { GenerateSecretString: Match.objectLike({ PasswordLength: 48, ExcludePunctuation: true }) },
    });
    template.hasResource('AWS::Logs::LogGroup', {
      DeletionPolicy: 'Retain',
      Properties: { LogGroupName: '/sx/batch/jobs', RetentionInDays: 365 },
    });
  });
});

/** The IAM statements granted to one handler's function. */
function statementsOf(handler: string): Array<{ Action: string | string[]; Resource: unknown; Effect: string; Condition?: unknown }> {
  // A handler of a group of routes has its function in that group's stack.
  const group = Object.values(routeStacks).find((stack) => stack.functions[handler]);
  if (group) {
    const role = group.getLogicalId(group.functions[handler]!.role.node.defaultChild as any);
    return Object.values(resourcesOf(Template.fromStack(group), 'AWS::IAM::Policy'))
      .filter((p) => (p.Properties.Roles as Array<{ Ref: string }>).some((r) => r.Ref === role))
      .flatMap((p) => p.Properties.PolicyDocument.Statement);
  }
  const role = stateless.getLogicalId(stateless.functions[handler]!.role.node.defaultChild as any);
  const policies = Object.values(resourcesOf(app, 'AWS::IAM::Policy')).filter((p) =>
    (p.Properties.Roles as Array<{ Ref: string }>).some((r) => r.Ref === role),
  );
  return policies.flatMap((p) => p.Properties.PolicyDocument.Statement);
}
const actionsOf = (handler: string) => statementsOf(handler).flatMap((s) => [s.Action].flat()).sort();
const logicalIdOf = (construct: any) => stateless.getLogicalId(construct.node.defaultChild ?? construct);
const fromStatefulOutput = (output: RegExp) => ({ 'Fn::GetStackOutput': expect.objectContaining({ StackName: 'sx-us-east-1-stateful', OutputName: expect.stringMatching(output) }) });

describe('stateless stack (us-east-1): functions', () => {
  const handlers = [...new Set([...splitRoutes(httpRoutes).stateless, ...streamConsumers, ...eventRules, ...declaredRoutes.schedules, ...logSubscriptions].map((r) => r.handler))];

  it('has one Node.js 22 arm64 function per handler in the route tables, plus the authorizer and scheduled ones', () => {
    expect(Object.keys(stateless.functions).sort()).toEqual([...handlers, 'api-authorizer', 'forward-events', SAMPLE_SCHEDULE.handler].sort());
    for (const fn of Object.values(stateless.functions)) {
      const props = resourcesOf(app, 'AWS::Lambda::Function')[logicalIdOf(fn.function)]!.Properties;
      expect(props).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'], Handler: 'index.handler', TracingConfig: { Mode: 'Active' } });
      expect(props.LoggingConfig).toEqual({ LogFormat: 'JSON', LogGroup: { Ref: logicalIdOf(fn.logGroup) } });
      app.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    }
  });

  it("sets exactly LambdaEnv's variables on every function, and they satisfy LambdaEnv", () => {
    expect(LambdaEnv.safeParse(stateless.lambdaEnvironment).success).toBe(true);
    // Every variable set is one LambdaEnv knows, and every one it requires (no default) is set.
    const keys = Object.keys(stateless.lambdaEnvironment);
    const required = Object.entries(LambdaEnv.shape).filter(([, schema]) => !schema.safeParse(undefined).success).map(([key]) => key);
    expect(keys.filter((key) => !(key in LambdaEnv.shape))).toEqual([]);
    expect(keys).toEqual(expect.arrayContaining(required));
    expect(keys).toContain('SX_COMPUTE_ENVIRONMENTS');
    const expected = stateless.resolve(stateless.lambdaEnvironment);
    for (const [handler, fn] of Object.entries(stateless.functions)) {
      const { Variables } = resourcesOf(app, 'AWS::Lambda::Function')[logicalIdOf(fn.function)]!.Properties.Environment;
      // The stream's one reader also gets the projections' queues.
      const { SX_PROJECTION_QUEUES, ...rest } = Variables;
      expect(rest, handler).toEqual(expected);
      expect(SX_PROJECTION_QUEUES !== undefined, handler).toBe(handler === 'forward-events');
    }
    // Spot is on in us-east-1, so the Spot queue is named.
    expect(expected.SX_JOB_QUEUE_SPOT).toBe('sx-spot');
  });

  it('gives a scheduled function reserved concurrency 1 (never two ticks at once), others none', () => {
    expect(resourcesOf(app, 'AWS::Lambda::Function')[logicalIdOf(stateless.functions['sample-sweep']!.function)]!.Properties.ReservedConcurrentExecutions).toBe(1);
    expect(resourcesOf(app, 'AWS::Lambda::Function')[logicalIdOf(stateless.functions['dispatch-jobs']!.function)]!.Properties.ReservedConcurrentExecutions).toBeUndefined();
  });

  it('warns at synth about a handler with no entry in infra/access.ts', () => {
    Annotations.fromStack(stateless).hasWarning('*', Match.stringLikeRegexp('sample-sweep has no entry in infra/access.ts'));
    for (const handler of handlers) expect(handlerAccess[handler], `${handler} in infra/access.ts`).toBeDefined();
  });
});

describe('stateless stack (us-east-1): least privilege', () => {
  // Cross-stack references (the tables live in the stateful stack) are rendered as Fn::GetStackOutput.
  const fromStateful = (output: RegExp) => ({ 'Fn::GetStackOutput': expect.objectContaining({ StackName: 'sx-us-east-1-stateful', OutputName: expect.stringMatching(output) }) });
  const events = () => fromStateful(/EventStoreevents[0-9A-F]+Arn/);

  it('never grants a wildcard action, and never update or delete on the events table', () => {
    for (const handler of Object.keys(stateless.functions)) {
      // Resizing the project's own compute environments is the capacity sweep's one write to Batch.
      const mayScale = handlerAccess[handler]?.batch?.includes('scale') ?? false;
      // The request counters (ratelimit# items, checked below) are the one thing a route updates on its own
      // partition; metric points are data, counted and written in bulk: the metrics table alone takes
      // updates and batch writes. Views are updated and deleted in place.
      const statements = statementsOf(handler)
        .filter((st) => !JSON.stringify(st.Condition ?? {}).includes('ratelimit#'))
        .filter((st) => !JSON.stringify(st.Resource).includes('EventStoremetrics'));
      for (const statement of statements) {
        const onViews = /EventStoreviews/.test(JSON.stringify(statement.Resource));
        for (const action of [statement.Action].flat()) {
          if (mayScale && action === 'batch:UpdateComputeEnvironment') continue;
          if (onViews && /^dynamodb:(UpdateItem|DeleteItem)$/.test(action)) continue;
          expect(action, handler).not.toMatch(/\*|^dynamodb:(UpdateItem|DeleteItem|BatchWriteItem|Scan)$|^batch:(Create|Update|Delete)/);
        }
      }
    }
    for (const [handler, needs] of Object.entries(handlerAccess)) {
      const onEvents = statementsOf(handler).filter((s) => JSON.stringify(s.Resource).includes('EventStoreevents') && !JSON.stringify(s.Resource).includes('Stream'));
      expect(onEvents.flatMap((s) => [s.Action].flat()).sort(), handler).toEqual(
        [...(needs.events?.includes('read') ? ['dynamodb:GetItem', 'dynamodb:Query'] : []), ...(needs.events?.includes('append') ? ['dynamodb:ConditionCheckItem', 'dynamodb:PutItem'] : [])].sort(),
      );
    }
  });

  it('lets every route count its requests in its own rate-limit items of the views table, and only those', () => {
    const views = fromStateful(/EventStoreviews[0-9A-F]+Arn/);
    for (const { handler } of httpRoutes) {
      const counting = statementsOf(handler).filter((st) => JSON.stringify(st.Condition ?? {}).includes('ratelimit#'));
      expect(counting, handler).toEqual([
        {
          Effect: 'Allow',
          Action: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
          Resource: views,
          Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['ratelimit#*'] } },
        },
      ]);
    }
    for (const handler of [...streamConsumers.map((c) => c.handler), 'api-authorizer']) {
      expect(JSON.stringify(statementsOf(handler)), handler).not.toContain('ratelimit#');
    }
  });

  it('lets scale-capacity resize only the project compute environments', () => {
    const update = statementsOf('scale-capacity').filter((s) => [s.Action].flat().includes('batch:UpdateComputeEnvironment'));
    expect(update).toHaveLength(1);
    expect(stateless.resolve(update[0]!.Resource)).toEqual(stateless.resolve(stateless.compute.computeEnvironmentArns));
    for (const handler of Object.keys(stateless.functions).filter((h) => h !== 'scale-capacity')) {
      expect(actionsOf(handler), handler).not.toContain('batch:UpdateComputeEnvironment');
    }
    expect(stateless.resolve(stateless.lambdaEnvironment.SX_COMPUTE_ENVIRONMENTS)).toEqual({ 'Fn::Join': [',', stateless.resolve(stateless.compute.computeEnvironmentArns)] });
  });

  it('lets dispatch-jobs submit only to the project queues and job definitions, terminate and describe jobs, append events', () => {
    const statements = statementsOf('dispatch-jobs');
    expect(statements).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          Action: 'batch:SubmitJob',
          Resource: expect.toSatisfy((resources: unknown[]) => resources.length === 6),
        }),
        expect.objectContaining({
          Action: 'batch:SubmitJob',
          Resource: expect.arrayContaining([
            { 'Fn::GetAtt': [logicalIdOf(stateless.compute.onDemandQueue), 'JobQueueArn'] },
            { 'Fn::GetAtt': [logicalIdOf(stateless.compute.spotQueue!), 'JobQueueArn'] },
            { 'Fn::Join': ['', ['arn:aws:batch:us-east-1:', { Ref: 'AWS::AccountId' }, ':job-definition/sx-single-node:*']] },
            { 'Fn::Join': ['', ['arn:aws:batch:us-east-1:', { Ref: 'AWS::AccountId' }, ':job-definition/sx-multi-node:*']] },
            // the per-image revisions derived from them
            { 'Fn::Join': ['', ['arn:aws:batch:us-east-1:', { Ref: 'AWS::AccountId' }, ':job-definition/sx-single-node-*']] },
            { 'Fn::Join': ['', ['arn:aws:batch:us-east-1:', { Ref: 'AWS::AccountId' }, ':job-definition/sx-multi-node-*']] },
          ]),
        }),
        expect.objectContaining({
          Action: 'batch:RegisterJobDefinition',
          Resource: expect.toSatisfy((resources: unknown[]) => resources.length === 4 && JSON.stringify(resources).includes('job-definition/sx-single-node-*')),
        }),
        expect.objectContaining({ Action: 'batch:TagResource', Condition: { StringEquals: { 'batch:CreateAction': 'RegisterJobDefinition' } } }),
        expect.objectContaining({ Action: 'batch:TagResource', Condition: { StringEquals: { 'batch:CreateAction': 'SubmitJob' } } }),
        expect.objectContaining({ Action: 'batch:TerminateJob', Resource: { 'Fn::Join': ['', ['arn:aws:batch:us-east-1:', { Ref: 'AWS::AccountId' }, ':job/*']] } }),
        // Read-only calls without resource-level permissions (CDK merges them into one statement).
        // X-Ray's actions (active tracing) have no resource-level permissions either, so CDK merges them in.
        expect.objectContaining({ Action: ['batch:DescribeJobDefinitions', 'batch:DescribeJobs', 'batch:ListJobs', ...XRAY_ACTIONS], Resource: '*' }),
        expect.objectContaining({ Action: ['dynamodb:ConditionCheckItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query'], Resource: events() }),
      ]),
    );
    expect(actionsOf('dispatch-jobs').filter((a) => a.startsWith('secretsmanager:') || a.startsWith('logs:Get'))).toEqual([]);
  });

  it('lets the job-view projection read events and write views, read its queue, and nothing of Batch', () => {
    const statements = statementsOf('project-job-views');
    expect(statements).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Action: ['dynamodb:GetItem', 'dynamodb:Query'], Resource: events() }),
        expect.objectContaining({ Action: ['dynamodb:DeleteItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'], Resource: fromStateful(/EventStoreviews[0-9A-F]+Arn/) }),
        expect.objectContaining({ Action: expect.arrayContaining(['sqs:ReceiveMessage', 'sqs:DeleteMessage']) }),
      ]),
    );
    expect(actionsOf('project-job-views').filter((a) => a.startsWith('batch:'))).toEqual([]);
  });

  it('lets every handler that writes views put, update and delete items there (idempotency records, active jobs, deliveries)', () => {
    const writers = Object.entries(handlerAccess).filter(([, needs]) => needs.views?.includes('write'));
    expect(writers.length).toBeGreaterThan(0);
    for (const [handler] of writers) {
      const onViews = statementsOf(handler).filter((s) => /EventStoreviews/.test(JSON.stringify(s.Resource))).flatMap((s) => [s.Action].flat());
      expect(onViews, handler).toEqual(expect.arrayContaining(['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem']));
    }
  });

  it('attaches to each function exactly the data-bucket policies infra/access.ts declares for it, and none to the others', () => {
    const storagePolicies = (handler: string) => {
      const role = resourcesOf(app, 'AWS::IAM::Role')[logicalIdOf(stateless.functions[handler]!.role)]!;
      return ((role.Properties.ManagedPolicyArns ?? []) as unknown[])
        .map((arn) => /Storage(FilesUpload|FilesRead|FilesDelete|OutputsRead|UrlsSign|RunsRead|UploadsSweep)/.exec(JSON.stringify(arn))?.[1])
        .filter(Boolean)
        .sort();
    };
    const names = { 'upload-files': 'FilesUpload', 'read-files': 'FilesRead', 'delete-files': 'FilesDelete', 'list-outputs': 'OutputsRead', 'sign-urls': 'UrlsSign', 'read-runs': 'RunsRead', 'sweep-uploads': 'UploadsSweep' } as const;
    for (const handler of Object.keys(stateless.functions)) {
      const expected = (handlerAccess[handler]?.objects ?? []).map((kind) => names[kind]).sort();
      expect(storagePolicies(handler), handler).toEqual(expected);
      // Nothing of S3 is granted inline.
      expect(actionsOf(handler).filter((a) => a.startsWith('s3:')), handler).toEqual([]);
    }
    expect(storagePolicies('api/complete-file')).toEqual(['FilesDelete', 'FilesRead', 'FilesUpload']);
    expect(storagePolicies('expire-uploads')).toEqual(['UploadsSweep']);
    // The functions that hand out URLs sign them as the URL signer, and cannot read what they sign for themselves.
    expect(storagePolicies('api/get-file-content')).toEqual(['UrlsSign']);
    expect(storagePolicies('api/list-job-outputs')).toEqual(['OutputsRead', 'UrlsSign']);
    expect(storagePolicies('api/create-file')).toEqual(['FilesUpload', 'UrlsSign']);
    // Billing reads the nodes' reports of when each command ran, wherever a Batch job's state is observed.
    expect(storagePolicies('batch-events')).toEqual(['RunsRead']);
    expect(storagePolicies('reconcile-jobs')).toEqual(['RunsRead']);
  });

  it("sets the data bucket's CORS rule to the console's origin only, with a deploy-time call allowed nothing but PutBucketCORS on that bucket", () => {
    const [cors, ...others] = Object.values(resourcesOf(app, 'Custom::AWS'));
    expect(others).toEqual([]);
    const create = JSON.stringify(cors!.Properties.Create).replaceAll('\\"', '"');
    expect(create).toContain('putBucketCors');
    expect(create).toContain('"AllowedOrigins":["https://",{"Fn::GetAtt":["' + logicalIdOf(stateless.console!.distribution) + '","DomainName"]}');
    expect(create).toContain('"ExposeHeaders":["ETag"]');
    expect(JSON.stringify(cors!.Properties.Delete)).toContain('deleteBucketCors');
    const policy = Object.values(resourcesOf(app, 'AWS::IAM::Policy')).find((p) => JSON.stringify(p.Properties.PolicyDocument).includes('PutBucketCORS'))!;
    expect(policy.Properties.PolicyDocument.Statement).toEqual([
      { Effect: 'Allow', Action: 's3:PutBucketCORS', Resource: fromStatefulOutput(/StorageOutputs[0-9A-F]+Arn/) },
    ]);
  });

  it('lets only get-job-logs read the job log group, and no API route touch Batch beyond describe', () => {
    for (const route of httpRoutes) {
      const actions = actionsOf(route.handler);
      expect(actions.some((a) => a.startsWith('logs:Get') || a.startsWith('logs:Filter')), route.handler).toBe(route.handler === 'api/get-job-logs');
      expect(actions.filter((a) => a.startsWith('batch:') && a !== 'batch:DescribeJobs' && a !== 'batch:ListJobs'), route.handler).toEqual([]);
    }
  });

  it('lets only the metric functions touch the metrics table: the route reads it, the subscription and batch-events (the stream index) write it', () => {
    const onMetrics = (handler: string) =>
      statementsOf(handler)
        .filter((s) => JSON.stringify(s.Resource).includes('EventStoremetrics'))
        .flatMap((s) => [s.Action].flat())
        .sort();
    for (const handler of Object.keys(stateless.functions)) {
      const expected = {
        'api/get-job-metrics': ['dynamodb:GetItem', 'dynamodb:Query'],
        'ingest-job-metrics': ['dynamodb:BatchWriteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'],
        'batch-events': ['dynamodb:BatchWriteItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
      }[handler];
      expect(onMetrics(handler), handler).toEqual(expected ?? []);
    }
  });

  it('feeds every event of the job log group to ingest-job-metrics through a subscription filter CloudWatch Logs may invoke', () => {
    const fn = stateless.functions['ingest-job-metrics']!.function;
    const logGroup = fromStateful(/JobLogs/);
    const filters = Object.values(resourcesOf(app, 'AWS::Logs::SubscriptionFilter')).map((r) => r.Properties);
    expect(filters).toEqual([
      expect.objectContaining({ FilterPattern: '', FilterName: 'sx-job-metrics', DestinationArn: { 'Fn::GetAtt': [logicalIdOf(fn), 'Arn'] }, LogGroupName: logGroup }),
    ]);
    app.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      FunctionName: { 'Fn::GetAtt': [logicalIdOf(fn), 'Arn'] },
      Principal: 'logs.amazonaws.com',
      SourceArn: Match.anyValue(),
    });
  });

  it('sends a log batch ingest-job-metrics could not handle after two retries to an on-failure queue with an alarm, not into the void', () => {
    const fn = stateless.functions['ingest-job-metrics']!.function;
    const config = Object.values(resourcesOf(app, 'AWS::Lambda::EventInvokeConfig')).map((r) => r.Properties);
    const forMetrics = config.filter((c) => JSON.stringify(c.FunctionName) === JSON.stringify({ Ref: logicalIdOf(fn) }));
    expect(forMetrics).toEqual([
      expect.objectContaining({
        Qualifier: '$LATEST',
        MaximumRetryAttempts: 2,
        MaximumEventAgeInSeconds: 6 * 3600,
        DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [expect.stringMatching(/^LogSubscriptionjobmetricsonfailure/), 'Arn'] } } },
      }),
    ]);
    const queueId = forMetrics[0].DestinationConfig.OnFailure.Destination['Fn::GetAtt'][0] as string;
    expect(resourcesOf(app, 'AWS::SQS::Queue')[queueId]).toBeDefined();
    expect(actionsOf('ingest-job-metrics')).toEqual(expect.arrayContaining(['sqs:SendMessage']));
    const alarms = Object.values(resourcesOf(app, 'AWS::CloudWatch::Alarm')).map((r) => r.Properties);
    expect(alarms.filter((a) => JSON.stringify(a.Dimensions ?? []).includes(queueId))).toHaveLength(1);
  });

  it('keeps every stack well under CloudFormation\'s 500 resources (room for a dozen more routes each)', () => {
    for (const stack of [stateful, stateless, ...Object.values(routeStacks)]) {
      expect(Object.keys(Template.fromStack(stack).toJSON().Resources).length, stack.stackName).toBeLessThanOrEqual(450);
    }
  });

  it('lets the authorizer read the events table (API keys), the views table (account snapshots: suspension) and the admin key, and nothing else', () => {
    expect(actionsOf('api-authorizer').sort()).toEqual(
      ['dynamodb:GetItem', 'dynamodb:Query', 'logs:CreateLogStream', 'logs:PutLogEvents', 'secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue', ...XRAY_ACTIONS].sort(),
    );
    const reads = statementsOf('api-authorizer').filter((s) => JSON.stringify(s.Action).includes('dynamodb:'));
    expect(reads.every((s) => JSON.stringify(s.Action) === JSON.stringify(['dynamodb:GetItem', 'dynamodb:Query']))).toBe(true);
    expect(JSON.stringify(reads)).toMatch(/EventStoreevents/);
    expect(JSON.stringify(reads)).toMatch(/EventStoreviews/);
    // Not the events table's stream.
    expect(JSON.stringify(statementsOf('api-authorizer'))).not.toMatch(/StreamArn/);
  });
});

describe('stateless stack (us-east-1): API', () => {
  it('serves exactly the routes of infra/routes.ts, each with its own function', () => {
    const routes = Object.values(resourcesOf(app, 'AWS::ApiGatewayV2::Route')).map((r) => r.Properties.RouteKey);
    expect(routes.sort()).toEqual(splitRoutes(httpRoutes).stateless.map((r) => `${r.method} ${r.path}`).sort());
  });

  it('puts each group of routes in a stack of its own, on the same API behind the same authorizer', () => {
    const fromStateless = (output: RegExp) => ({ 'Fn::GetStackOutput': expect.objectContaining({ StackName: 'sx-us-east-1-stateless', OutputName: expect.stringMatching(output) }) });
    const apiRef = fromStateless(/HttpApi/);
    const authorizerRef = fromStateless(/ApiKey/);
    const all = new Set(Object.values(resourcesOf(app, 'AWS::ApiGatewayV2::Route')).map((r) => r.Properties.RouteKey));
    for (const [group, stack] of Object.entries(routeStacks)) {
      const template = Template.fromStack(stack);
      const routes = Object.values(resourcesOf(template, 'AWS::ApiGatewayV2::Route'));
      const wanted = httpRoutes.filter((r) => routeGroups[group as keyof typeof routeGroups](r));
      expect(wanted.length, group).toBeGreaterThan(0);
      expect(routes.map((r) => r.Properties.RouteKey).sort()).toEqual(wanted.map((r) => `${r.method} ${r.path}`).sort());
      for (const route of routes) {
        expect(route.Properties).toMatchObject({ ApiId: apiRef, AuthorizationType: 'CUSTOM', AuthorizerId: authorizerRef });
        all.add(route.Properties.RouteKey);
      }
      // No API, stage or authorizer of its own; a function, an integration and an errors alarm per route.
      expect(Object.keys(resourcesOf(template, 'AWS::ApiGatewayV2::Api'))).toHaveLength(0);
      expect(Object.keys(resourcesOf(template, 'AWS::ApiGatewayV2::Authorizer'))).toHaveLength(0);
      expect(Object.keys(resourcesOf(template, 'AWS::Lambda::Function'))).toHaveLength(wanted.length);
      expect(Object.keys(resourcesOf(template, 'AWS::ApiGatewayV2::Integration'))).toHaveLength(wanted.length);
      expect(Object.keys(resourcesOf(template, 'AWS::CloudWatch::Alarm'))).toHaveLength(wanted.length);
      // The environment of every function, but no compute environments (an export of theirs would pin them).
      for (const fn of Object.values(resourcesOf(template, 'AWS::Lambda::Function'))) {
        expect(Object.keys(fn.Properties.Environment.Variables).sort()).toEqual(Object.keys(stateless.lambdaEnvironment).sort());
        expect(fn.Properties.Environment.Variables.SX_COMPUTE_ENVIRONMENTS).toBe('');
      }
      expect(JSON.stringify(template.toJSON())).not.toMatch(/ComputeEnvironment/);
    }
    // Together: every route of infra/routes.ts, once.
    expect([...all].sort()).toEqual(httpRoutes.map((r) => `${r.method} ${r.path}`).sort());
  });

  it('grants a function in a route stack what infra/access.ts declares, as in the stateless stack', () => {
    const template = Template.fromStack(routeStacks.operators!);
    const fn = routeStacks.operators!.functions['api/create-admin-credit']!;
    const policies = Object.values(resourcesOf(template, 'AWS::IAM::Policy')).filter((p) =>
      JSON.stringify(p.Properties.Roles).includes(routeStacks.operators!.getLogicalId(fn.role.node.defaultChild as any)),
    );
    const actions = policies.flatMap((p) => p.Properties.PolicyDocument.Statement.flatMap((s: any) => [s.Action].flat()));
    expect(actions).toEqual(expect.arrayContaining(['dynamodb:PutItem', 'dynamodb:ConditionCheckItem', 'secretsmanager:GetSecretValue']));
    expect(actions.filter((a: string) => a.startsWith('batch:'))).toEqual([]);
  });

  it('puts the API-key authorizer in front of every route but the public ones', () => {
    for (const route of Object.values(resourcesOf(app, 'AWS::ApiGatewayV2::Route'))) {
      const isPublic = publicRoutes.has(route.Properties.RouteKey);
      expect(route.Properties.AuthorizationType, route.Properties.RouteKey).toBe(isPublic ? 'NONE' : 'CUSTOM');
    }
    app.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'REQUEST',
      EnableSimpleResponses: true,
      AuthorizerPayloadFormatVersion: '2.0',
    });
  });

  it('lets a request without Authorization through to the handler, which answers 401 problem+json', async () => {
    // The template: no identity source (API Gateway would answer 401 itself, with its own body,
    // when it is missing) and so no cache (which needs one); every keyed route uses this authorizer.
    const authorizers = Object.entries(resourcesOf(app, 'AWS::ApiGatewayV2::Authorizer'));
    expect(authorizers).toHaveLength(1);
    const [authorizerId, authorizer] = authorizers[0]!;
    expect(authorizer.Properties.IdentitySource).toBeUndefined();
    expect(authorizer.Properties.AuthorizerResultTtlInSeconds).toBe(0);
    for (const route of Object.values(resourcesOf(app, 'AWS::ApiGatewayV2::Route'))) {
      if (!publicRoutes.has(route.Properties.RouteKey)) expect(route.Properties.AuthorizerId, route.Properties.RouteKey).toEqual({ Ref: authorizerId });
    }
    // The authorizer lets a request with no headers at all through, with the 401 detail as its verdict...
    const deps = { store: new InMemoryEventStore(), policy: defaultPolicy, now: () => new Date(), requestCounter: new InMemoryRequestCounter() } as unknown as Deps;
    const noHeaders = { type: 'REQUEST', routeKey: 'GET /v1/account', rawPath: '/v1/account', headers: {}, requestContext: { requestId: 'req-1', http: { method: 'GET' } } };
    const verdict = await makeAuthorizer(deps)(noHeaders as never);
    expect(verdict).toEqual({ isAuthorized: true, context: { auth: 'key', outcome: 'refused', detail: expect.any(String) } });
    // ...and the keyed route's middleware answers it, as API Gateway passes the verdict on, with API.md's 401 problem.
    const handler = route(deps, { auth: 'key' }, async () => json(200, {}));
    const event = { ...noHeaders, isBase64Encoded: false, requestContext: { ...noHeaders.requestContext, authorizer: { lambda: 'context' in verdict ? verdict.context : {} } } };
    const res = (await handler(event as never, {} as never)) as { statusCode: number; headers: Record<string, string>; body: string };
    expect(res.statusCode).toBe(401);
    expect(res.headers['content-type']).toBe('application/problem+json');
    expect(JSON.parse(res.body)).toMatchObject({ type: 'unauthorized', status: 401 });
  });

  it('logs every request as JSON and throttles the stage', () => {
    app.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      AccessLogSettings: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('"requestId":"\\$context.requestId"') },
      DefaultRouteSettings: { ThrottlingRateLimit: 500, ThrottlingBurstLimit: 1000 },
    });
  });
});

describe('stateless stack (us-east-1): projections, events, schedules', () => {
  it('reads the events stream with one function, never more than two readers per shard', () => {
    const onStream = Object.values(resourcesOf(app, 'AWS::Lambda::EventSourceMapping')).filter((m) => /StreamArn/.test(JSON.stringify(m.Properties.EventSourceArn)));
    expect(onStream.length).toBeLessThanOrEqual(2);
    const { fn, onFailure } = stateless.projections.forwarding;
    expect(onStream).toHaveLength(1);
    expect(onStream[0]!.Properties).toMatchObject({
      FunctionName: { Ref: logicalIdOf(fn.function) },
      EventSourceArn: { 'Fn::GetStackOutput': expect.objectContaining({ OutputName: expect.stringMatching(/EventStoreevents.*StreamArn/) }) },
      StartingPosition: 'TRIM_HORIZON',
      BisectBatchOnFunctionError: true,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      MaximumRecordAgeInSeconds: 6 * 3600,
      ParallelizationFactor: 1,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [logicalIdOf(onFailure), 'Arn'] } } },
      FilterCriteria: { Filters: [{ Pattern: JSON.stringify({ eventName: ['INSERT'] }) }] },
    });
    // It sends to every projection's queue, and to nothing else.
    const queues = Object.values(stateless.projections.mappings).map((m) => m.queue);
    const env = resourcesOf(app, 'AWS::Lambda::Function')[logicalIdOf(fn.function)]!.Properties.Environment.Variables;
    expect(JSON.stringify(env.SX_PROJECTION_QUEUES)).toEqual(expect.stringContaining(logicalIdOf(queues[0])));
    const sendsTo = statementsOf('forward-events').filter((st) => [st.Action].flat().includes('sqs:SendMessage')).flatMap((st) => [st.Resource].flat());
    const arns = [...queues, onFailure].map((q) => ({ 'Fn::GetAtt': [logicalIdOf(q), 'Arn'] }));
    expect(sendsTo).toEqual(expect.arrayContaining(arns));
    expect(sendsTo).toHaveLength(arns.length);
  });

  it('feeds each projection from its own FIFO queue, in order per stream, isolated from the others, with a FIFO DLQ after its retries', () => {
    for (const consumer of streamConsumers) {
      const { fn, queue, deadLetters } = stateless.projections.mappings[consumer.name]!;
      const props = resourcesOf(app, 'AWS::SQS::Queue')[logicalIdOf(queue)]!.Properties;
      expect(props).toMatchObject({
        FifoQueue: true,
        FifoThroughputLimit: 'perMessageGroupId',
        DeduplicationScope: 'messageGroup',
        RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [logicalIdOf(deadLetters), 'Arn'] }, maxReceiveCount: consumer.maxRetries + 1 },
      });
      expect(props.VisibilityTimeout).toBeGreaterThanOrEqual(6 * fn.function.timeout!.toSeconds());
      expect(resourcesOf(app, 'AWS::SQS::Queue')[logicalIdOf(deadLetters)]!.Properties.FifoQueue).toBe(true);
      app.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        FunctionName: { Ref: logicalIdOf(fn.function) },
        EventSourceArn: { 'Fn::GetAtt': [logicalIdOf(queue), 'Arn'] },
        BatchSize: Math.min(consumer.batchSize, 10),
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      });
      // A projection no longer reads the stream itself.
      expect(actionsOf(consumer.handler).filter((a) => a === 'dynamodb:GetRecords'), consumer.handler).toEqual([]);
    }
  });

  it("routes our queues' Batch job state changes from the default bus to batch-events, with retries and a DLQ", () => {
    const { rule, dlq } = stateless.eventRouting.rules['batch-job-state-change']!;
    const props = resourcesOf(app, 'AWS::Events::Rule')[logicalIdOf(rule)]!.Properties;
    expect(props.EventBusName).toBe('default'); // where AWS services deliver their events
    // Only jobs of the project's queues: another workload's Batch jobs in the account are not ours to settle.
    const queues = Object.keys(resourcesOf(app, 'AWS::Batch::JobQueue')).sort();
    expect(props.EventPattern).toEqual({
      source: ['aws.batch'],
      'detail-type': ['Batch Job State Change'],
      detail: { jobQueue: queues.map((id) => ({ 'Fn::GetAtt': [id, 'JobQueueArn'] })) },
    });
    expect(props.Targets).toEqual([
      expect.objectContaining({
        Arn: { 'Fn::GetAtt': [logicalIdOf(stateless.functions['batch-events']!.function), 'Arn'] },
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': [logicalIdOf(dlq), 'Arn'] } },
        RetryPolicy: { MaximumRetryAttempts: 20, MaximumEventAgeInSeconds: 86_400 },
      }),
    ]);
    app.hasResourceProperties('AWS::Events::EventBus', { Name: 'sx-events' });
    app.hasResourceProperties('AWS::Events::Archive', { RetentionDays: 90 });
  });

  it('runs each schedule on EventBridge Scheduler (rounded up to whole minutes) with retries and one DLQ shared by all', () => {
    const { dlq } = stateless.schedules.schedules[SAMPLE_SCHEDULE.name]!;
    expect(new Set(Object.values(stateless.schedules.schedules).map((s) => s.dlq))).toEqual(new Set([stateless.schedules.dlq]));
    app.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(2 minutes)',
      GroupName: Match.anyValue(),
      Target: Match.objectLike({
        Arn: { 'Fn::GetAtt': [logicalIdOf(stateless.functions[SAMPLE_SCHEDULE.handler]!.function), 'Arn'] },
        RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 120 },
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': [logicalIdOf(dlq), 'Arn'] } },
      }),
    });
    Annotations.fromStack(stateless).hasWarning('*', Match.stringLikeRegexp('sample-sweep asks for every 90s'));
  });
});

describe('stateless stack (us-east-1): Batch', () => {
  it('runs p4d.24xlarge only: on-demand in one cluster placement group, Spot across AZs', () => {
    const envs = Object.values(resourcesOf(app, 'AWS::Batch::ComputeEnvironment')).map((r) => r.Properties.ComputeResources);
    expect(envs).toHaveLength(2);
    for (const env of envs) expect(env).toMatchObject({ InstanceTypes: ['p4d.24xlarge'], MinvCpus: 0, Ec2Configuration: [{ ImageType: 'ECS_AL2023_NVIDIA' }] });
    const onDemand = envs.find((e) => e.Type === 'EC2')!;
    expect(onDemand).toMatchObject({ MaxvCpus: 8 * 96, AllocationStrategy: 'BEST_FIT_PROGRESSIVE', PlacementGroup: { Ref: expect.any(String) } });
    expect(onDemand.Subnets).toHaveLength(1);
    const spot = envs.find((e) => e.Type === 'SPOT')!;
    expect(spot).toMatchObject({ MaxvCpus: 4 * 96, AllocationStrategy: 'SPOT_PRICE_CAPACITY_OPTIMIZED' });
    expect(spot.PlacementGroup).toBeUndefined();
    expect(spot.Subnets.length).toBeGreaterThan(1);
    app.hasResourceProperties('AWS::EC2::PlacementGroup', { Strategy: 'cluster' });
  });

  it('gives the on-demand nodes four EFA interfaces, and every node IMDSv2 with hop limit 1 and an encrypted root volume', () => {
    const templates = Object.values(resourcesOf(app, 'AWS::EC2::LaunchTemplate')).map((r) => r.Properties.LaunchTemplateData);
    expect(templates).toHaveLength(2);
    for (const data of templates) {
      expect(data.MetadataOptions).toEqual({ HttpTokens: 'required', HttpPutResponseHopLimit: 1, HttpEndpoint: 'enabled' });
      expect(data.BlockDeviceMappings[0].Ebs).toMatchObject({ Encrypted: true, VolumeType: 'gp3' });
    }
    const efa = templates.find((d) => d.NetworkInterfaces)!;
    expect(efa.NetworkInterfaces.map((n: any) => [n.NetworkCardIndex, n.DeviceIndex, n.InterfaceType])).toEqual([
      [0, 0, 'efa'], [1, 1, 'efa'], [2, 1, 'efa'], [3, 1, 'efa'],
    ]);
  });

  it('sets the ECS stop timeout to the stop grace, drains Spot nodes, and installs sx-entry, the sync service and s5cmd', () => {
    const templates = Object.values(resourcesOf(app, 'AWS::EC2::LaunchTemplate')).map((r) => r.Properties.LaunchTemplateData);
    const scripts = templates.map((d) => userDataOf(d.UserData));
    for (const script of scripts) {
      expect(script).toContain(`echo ECS_CONTAINER_STOP_TIMEOUT=${STOP_GRACE_SECONDS}s >> /etc/ecs/ecs.config`);
      expect(script).toContain('echo ECS_AWSVPC_BLOCK_IMDS=true >> /etc/ecs/ecs.config');
      expect(installedScript(script, '/opt/sx/bin/sx-entry')).toBe(nodeScript('sx-entry.sh'));
      expect(installedScript(script, '/opt/sx/sx-job-sync')).toBe(nodeScript('sx-job-sync.sh'));
      expect(script).toMatch(/Environment=AWS_REGION=us-east-1 SX_SYNC_INTERVAL=300 SX_STOP_GRACE_SECONDS=30 SX_SPOT=(true|false)\n/);
      expect(script).toContain('systemctl enable --now --no-block sx-job-sync.service');
      // The pinned s5cmd, before the sync service that uses it starts.
      expect(installedScript(script, '/opt/sx/sx-s5cmd-setup')).toBe(nodeScript('sx-s5cmd-setup.sh'));
      expect(script).toContain('chmod 0755 /opt/sx/sx-s5cmd-setup\n/opt/sx/sx-s5cmd-setup\n');
      expect(script.indexOf('\n/opt/sx/sx-s5cmd-setup\n')).toBeLessThan(script.indexOf('systemctl enable --now --no-block sx-job-sync.service'));
    }
    // The grace the functions hold and tell the job is the same number.
    expect(STOP_GRACE_SECONDS).toBe(30);
    expect(stateless.lambdaEnvironment.SX_STOP_GRACE_SECONDS).toBe(String(STOP_GRACE_SECONDS));
    const spot = scripts.filter((s) => s.includes('ECS_ENABLE_SPOT_INSTANCE_DRAINING=true'));
    expect(spot).toHaveLength(1);
    expect(spot[0]).toContain(' SX_SPOT=true\n'); // the sync service watches for the interruption notice
    expect(spot[0]).not.toContain('sx-efa-setup'); // the Spot template is the one without EFA
    // The on-demand (EFA) nodes set EFA up before anything else, and leave if it fails.
    const [onDemand] = scripts.filter((s) => !s.includes('ECS_ENABLE_SPOT_INSTANCE_DRAINING'));
    expect(installedScript(onDemand!, '/opt/sx/sx-efa-setup')).toBe(nodeScript('sx-efa-setup.sh'));
    expect(onDemand!.indexOf('SX_EFA_INTERFACES=4 /opt/sx/sx-efa-setup')).toBeLessThan(onDemand!.indexOf('/etc/ecs/ecs.config'));
    for (const data of templates) expect(data.InstanceInitiatedShutdownBehavior).toBe('terminate');
    // EC2 takes at most 16 KB of user data before base64 (tokens are short here: the region's name).
    for (const script of scripts) expect(Buffer.byteLength(script)).toBeLessThanOrEqual(16 * 1024);
  });

  it('mounts task-scoped checkpoint, output and (read-only) input volumes and the read-only entrypoint in both job definitions', () => {
    const volumes = [{ Name: 'sx-checkpoints' }, { Name: 'sx-output' }, { Name: 'sx-input' }, { Name: 'sx-bin', Host: { SourcePath: '/opt/sx/bin' } }];
    const mountPoints = [
      { SourceVolume: 'sx-input', ContainerPath: CONTAINER_INPUT_DIR, ReadOnly: true },
      { SourceVolume: 'sx-checkpoints', ContainerPath: CONTAINER_CHECKPOINT_DIR, ReadOnly: false },
      { SourceVolume: 'sx-output', ContainerPath: CONTAINER_OUTPUT_DIR, ReadOnly: false },
      { SourceVolume: 'sx-bin', ContainerPath: '/sx/bin', ReadOnly: true },
    ];
    const defs = Object.values(resourcesOf(app, 'AWS::Batch::JobDefinition')).map((d) => d.Properties);
    const containers = defs.flatMap((d) => (d.ContainerProperties ? [d.ContainerProperties] : d.NodeProperties.NodeRangeProperties.map((r: any) => r.Container)));
    expect(containers).toHaveLength(2);
    for (const c of containers) expect({ Volumes: c.Volumes, MountPoints: c.MountPoints }).toEqual({ Volumes: volumes, MountPoints: mountPoints });
    expect(CONTAINER_ENTRYPOINT).toBe('/sx/bin/sx-entry');
  });

  it('lets the nodes read files/ (inputs), read and write only the checkpoints/ and outputs/ prefixes of the bucket, and write run reports to runs/', () => {
    // The policy lives beside the bucket (stateful); the node role (stateless) attaches it.
    const bucketArn = { 'Fn::GetAtt': [stateful.getLogicalId(stateful.storage.bucket.node.defaultChild as any), 'Arn'] };
    template.hasResourceProperties('AWS::IAM::ManagedPolicy', {
      PolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Action: 's3:GetObject', Resource: { 'Fn::Join': ['', [bucketArn, '/files/*']] } },
          {
            Effect: 'Allow',
            Action: ['s3:GetObject', 's3:PutObject'],
            Resource: [{ 'Fn::Join': ['', [bucketArn, '/checkpoints/*']] }, { 'Fn::Join': ['', [bucketArn, '/outputs/*']] }],
          },
          // When each job's command ran, for billing: written only.
          { Effect: 'Allow', Action: 's3:PutObject', Resource: { 'Fn::Join': ['', [bucketArn, '/runs/*']] } },
          { Effect: 'Allow', Action: 's3:ListBucket', Resource: bucketArn, Condition: { StringLike: { 's3:prefix': ['checkpoints/*', 'outputs/*'] } } },
        ],
      },
    });
    const roles = Object.values(resourcesOf(app, 'AWS::IAM::Role')).filter((r) => JSON.stringify(r.Properties.AssumeRolePolicyDocument).includes('ec2.amazonaws.com'));
    expect(roles).toHaveLength(1);
    expect(roles[0]!.Properties.ManagedPolicyArns).toHaveLength(2); // the ECS instance policy and this one
    expect(JSON.stringify(roles[0]!.Properties.ManagedPolicyArns[1])).toContain('NodeJobFiles');
    // And fail a job whose inputs it cannot fetch (TerminateJob, reason sx:infrastructure), nothing else.
    const inline = Object.values(resourcesOf(app, 'AWS::IAM::Policy')).filter((p) => JSON.stringify(p.Properties.Roles).includes(Object.keys(resourcesOf(app, 'AWS::IAM::Role')).find((id) => resourcesOf(app, 'AWS::IAM::Role')[id] === roles[0])!));
    expect(inline.flatMap((p) => p.Properties.PolicyDocument.Statement)).toEqual([
      { Effect: 'Allow', Action: 'batch:TerminateJob', Resource: { 'Fn::Join': ['', ['arn:aws:batch:us-east-1:', { Ref: 'AWS::AccountId' }, ':job/*']] } },
    ]);
  });

  it('has an on-demand queue and a Spot queue that falls back to on-demand', () => {
    app.hasResourceProperties('AWS::Batch::JobQueue', { JobQueueName: 'sx-on-demand', ComputeEnvironmentOrder: [Match.objectLike({ Order: 1 })] });
    app.hasResourceProperties('AWS::Batch::JobQueue', {
      JobQueueName: 'sx-spot',
      ComputeEnvironmentOrder: [Match.objectLike({ Order: 1 }), Match.objectLike({ Order: 2 })],
    });
  });

  it('defines single-node and multi-node parallel jobs with GPUs, EFA devices and a safety-maximum timeout', () => {
    app.hasResourceProperties('AWS::Batch::JobDefinition', {
      JobDefinitionName: 'sx-single-node',
      Type: 'container',
      PlatformCapabilities: ['EC2'],
      Timeout: { AttemptDurationSeconds: MAX_ATTEMPT_SECONDS },
      RetryStrategy: { Attempts: COMPUTE_ATTEMPTS, EvaluateOnExit: [{ OnStatusReason: 'Host EC2*', Action: 'RETRY' }, { OnReason: '*', Action: 'EXIT' }] },
      ContainerProperties: Match.objectLike({
        ResourceRequirements: [{ Type: 'GPU', Value: '1' }, { Type: 'VCPU', Value: '12' }, { Type: 'MEMORY', Value: '137500' }],
        Privileged: false,
      }),
    });
    const multi = Object.values(resourcesOf(app, 'AWS::Batch::JobDefinition')).find((d) => d.Properties.Type === 'multinode')!.Properties;
    expect(multi).toMatchObject({ JobDefinitionName: 'sx-multi-node', PlatformCapabilities: ['EC2'], Timeout: { AttemptDurationSeconds: MAX_ATTEMPT_SECONDS } });
    expect(multi.NodeProperties).toMatchObject({ NumNodes: 2, MainNode: 0 });
    const [range] = multi.NodeProperties.NodeRangeProperties;
    expect(range.TargetNodes).toBe('0:');
    expect(range.Container.ResourceRequirements).toEqual([{ Type: 'GPU', Value: '8' }, { Type: 'VCPU', Value: '96' }, { Type: 'MEMORY', Value: '1100000' }]);
    expect(range.Container.LinuxParameters.Devices.map((d: any) => d.HostPath)).toEqual([0, 1, 2, 3].map((i) => `/dev/infiniband/uverbs${i}`));
    expect(range.Container.LogConfiguration.Options['awslogs-group']).toEqual({
      'Fn::GetStackOutput': expect.objectContaining({ OutputName: expect.stringMatching(/StorageJobLogs/) }),
    });
  });
});

describe('stateless stack (us-east-1): alarms', () => {
  const alarms = () => Object.values(resourcesOf(app, 'AWS::CloudWatch::Alarm')).map((r) => r.Properties);

  it('pages on any message in any DLQ or on-failure queue', () => {
    const projectionQueues = new Set(Object.values(stateless.projections.mappings).map((m) => logicalIdOf(m.queue)));
    const queues = Object.keys(resourcesOf(app, 'AWS::SQS::Queue')).filter((q) => !projectionQueues.has(q));
    const dlqAlarms = alarms().filter((a) => a.MetricName === 'ApproximateNumberOfMessagesVisible');
    expect(dlqAlarms.map((a) => a.Dimensions[0].Value['Fn::GetAtt'][0]).sort()).toEqual(queues.sort());
    for (const a of dlqAlarms) expect(a).toMatchObject({ Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold', TreatMissingData: 'notBreaching' });
  });

  it('pages on stream iterator age, API 5xx and errors in any function', () => {
    const byMetric = (name: string) => alarms().filter((a) => a.MetricName === name);
    expect(byMetric('IteratorAge')).toHaveLength(1);
    expect(byMetric('ApproximateAgeOfOldestMessage')).toHaveLength(streamConsumers.length);
    for (const a of byMetric('ApproximateAgeOfOldestMessage')) expect(a).toMatchObject({ Threshold: 300, Statistic: 'Maximum' });
    for (const a of byMetric('IteratorAge')) expect(a).toMatchObject({ Threshold: 300_000, Statistic: 'Maximum' });
    expect(byMetric('5xx')).toEqual([expect.objectContaining({ Namespace: 'AWS/ApiGateway', Threshold: 1, Statistic: 'Sum' })]);
    expect(byMetric('Errors')).toHaveLength(Object.keys(stateless.functions).length);
    for (const a of alarms()) expect(a.AlarmActions).toEqual([{ Ref: logicalIdOf(stateless.alarms.topic) }]);
    app.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'oncall@suanxiang.example' });
  });
});

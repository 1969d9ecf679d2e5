import { Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { existsSync } from 'node:fs';
import { bundleDirOf } from '../bundling';

export interface AppFunctionProps {
  /** The handler's name in `infra/routes.ts` (`api/create-job`): the entry is `functions/<handler>.ts`, export `handler`. */
  readonly handler: string;
  /**
   * The code. @default the handler's bundle from `bundleHandlers` (`.build/lambda/<handler>/`),
   * which `infra/cdk/app.ts` builds before synthesizing
   */
  readonly code?: lambda.Code;
  /** The function's environment: `LambdaEnv` (functions/env.ts), the same for every function. */
  readonly environment: Record<string, string>;
  /** @default 512 */
  readonly memoryMb?: number;
  /** @default Duration.seconds(10) */
  readonly timeout?: Duration;
  /** How long its logs are kept. @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** Cap on concurrent executions (1 makes a scheduled handler never run twice at once). @default unreserved */
  readonly reservedConcurrency?: number;
  /** @default the handler name */
  readonly description?: string;
}

/** The bundled code of a handler, or a clear error when it was not bundled. */
export function bundledCode(handler: string): lambda.Code {
  const dir = bundleDirOf(handler);
  if (!existsSync(dir)) throw new Error(`No bundle for ${handler} in ${dir}: synthesize through infra/cdk/app.ts (npm run synth), which bundles first`);
  return lambda.Code.fromAsset(dir);
}

/**
 * One Lambda function of this project with its defaults (Node.js 22 on arm64, code bundled by
 * `bundleHandlers`: minified ESM with source maps, the AWS SDK external, X-Ray active tracing), its own log group with a retention, and a
 * role that starts with nothing but writing to that log group. Everything else is granted with
 * the `allow*` helpers, which name exact actions and resources.
 */
export class AppFunction extends Construct {
  readonly function: lambda.Function;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: AppFunctionProps) {
    super(scope, id);
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // Our own role instead of the AWSLambdaBasicExecutionRole managed policy, which may write to any log group.
    this.role = new iam.Role(this, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        // The log group's Arn attribute ends in `:*`, which covers its log streams.
        resources: [this.logGroup.logGroupArn],
      }),
    );
    this.function = new lambda.Function(this, 'Function', {
      code: props.code ?? bundledCode(props.handler),
      handler: 'index.handler',
      description: props.description ?? props.handler,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memoryMb ?? 512,
      timeout: props.timeout ?? Duration.seconds(10),
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      // Exactly the given environment. Not NODE_OPTIONS=--enable-source-maps: Node then parses the
      // whole source map at load, which measured +140 ms of cold start (BENCHMARKS.md); the map is
      // in the asset for symbolicating a minified stack trace.
      environment: props.environment,
      reservedConcurrentExecutions: props.reservedConcurrency,
      // X-Ray traces every invocation (the service map, cold starts, where a slow request spent its time).
      tracing: lambda.Tracing.ACTIVE,
    });
    Validations.of(this).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level permissions; active tracing needs them on *.',
    });
  }

  /** Allows exactly `actions` on a table (and nothing on its indexes or stream). */
  allowTable(table: dynamodb.ITable, actions: string[]): void {
    if (actions.length === 0) return;
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: actions.map((a) => `dynamodb:${a}`), resources: [table.tableArn] }));
  }

  /** Allows `actions` on `resources`: the helper for everything that is not a table. */
  allow(actions: string[], resources: string[], conditions?: Record<string, unknown>): void {
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions, resources, ...(conditions ? { conditions } : {}) }));
  }

  /**
   * How cdk-nag prints `arn(service, resource)` in a finding id (unresolved parts as `<AWS::Region>`
   * and the like), to acknowledge exactly that finding.
   */
  nagArn(service: string, resource: string): string {
    const stack = Stack.of(this);
    const part = (value: string, pseudo: string) => (Token.isUnresolved(value) ? `<AWS::${pseudo}>` : value);
    return `arn:${part(stack.partition, 'Partition')}:${service}:${part(stack.region, 'Region')}:${part(stack.account, 'AccountId')}:${resource}`;
  }

  /** The ARN pattern of a resource in this function's stack's region and account. */
  arn(service: string, resource: string): string {
    const stack = Stack.of(this);
    return `arn:${stack.partition}:${service}:${stack.region}:${stack.account}:${resource}`;
  }
}

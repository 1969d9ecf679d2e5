import { Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { ApiRoute } from './constructs/api';
import type { AppFunction } from './constructs/app-function';
import type { StatelessStack } from './stateless-stack';

/**
 * Groups of HTTP routes deployed as a stack of their own, beside the stateless stack of their region
 * (`<prefix>-<region>-<group>`): CloudFormation allows 500 resources in one stack and every route costs
 * eight (function, role, policy, log group, route, integration, invoke permission, errors alarm). Each
 * group is a part of the API that needs neither Batch nor the stream: its functions read and append
 * events and views like any route, on the same HTTP API, behind the same authorizer.
 */
export const routeGroups = {
  /**
   * The operators' routes (the admin key). Creating a voucher stays in the stateless stack: the
   * rehearsal (docs/aws.md) reads that stack's template and buys a job's credit with a voucher.
   */
  operators: (route: ApiRoute) => route.path.startsWith('/v1/admin/') && route.handler !== 'api/create-voucher',
  /** Webhook endpoints and their deliveries. */
  webhooks: (route: ApiRoute) => route.path.startsWith('/v1/webhook-endpoints'),
} as const satisfies Record<string, (route: ApiRoute) => boolean>;
export type RouteGroup = keyof typeof routeGroups;

/** The routes the stateless stack keeps, and those of each group (in the order of the table). */
export function splitRoutes(routes: readonly ApiRoute[]): { stateless: ApiRoute[]; groups: Record<RouteGroup, ApiRoute[]> } {
  const groups = Object.fromEntries(Object.keys(routeGroups).map((g) => [g, [] as ApiRoute[]])) as Record<RouteGroup, ApiRoute[]>;
  const stateless: ApiRoute[] = [];
  for (const route of routes) {
    const group = (Object.keys(routeGroups) as RouteGroup[]).find((g) => routeGroups[g](route));
    (group ? groups[group] : stateless).push(route);
  }
  return { stateless, groups };
}

export interface RouteStackProps extends StackProps {
  /** The stateless stack of the same region: its API, authorizer, environment and alarm topic. */
  readonly stateless: StatelessStack;
  readonly routes: readonly ApiRoute[];
  /** A handler's code. @default its bundle in `.build/lambda` */
  readonly codeFor?: (handler: string) => lambda.Code;
}

/**
 * Routes of the region's HTTP API and their functions, in a stack of their own. The functions get the
 * environment and exactly the grants the stateless stack gives its own (infra/access.ts); the routes
 * are added to the stateless stack's API behind its authorizer; each function's errors page the
 * stateless stack's alarm topic. What this stack takes from the stateless one (read at deploy,
 * `Fn::GetStackOutput`) is the API's id, the authorizer's id and the topic's ARN, none of which
 * changes while the stacks live.
 *
 * Batch is out of bounds here: the compute environments' ARNs change when the stateless stack replaces
 * one, and this stack would keep the old ones until it is deployed again. A handler that needs Batch
 * stays in the stateless stack (checked at synthesis), and these functions get `SX_COMPUTE_ENVIRONMENTS`
 * empty (only the scaler reads it).
 */
export class RouteStack extends Stack {
  readonly functions: Record<string, AppFunction> = {};
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: RouteStackProps) {
    super(scope, id, props);
    const { stateless } = props;
    const environment = { ...stateless.lambdaEnvironment, SX_COMPUTE_ENVIRONMENTS: '' };
    const functionsScope = new Construct(this, 'Functions');
    for (const handler of new Set(props.routes.map((r) => r.handler))) {
      if (stateless.access[handler]?.batch?.length) {
        throw new Error(`${handler} uses Batch (infra/access.ts): its route belongs in the stateless stack, not in ${id}`);
      }
      this.functions[handler] = stateless.addFunction(functionsScope, handler, 'http', { environment, codeFor: props.codeFor });
    }
    const functionFor = (handler: string) => this.functions[handler]!.function;
    stateless.api.addRoutes(new Construct(this, 'Routes'), props.routes, functionFor);

    const topic = sns.Topic.fromTopicArn(this, 'AlarmTopic', stateless.alarms.topic.topicArn);
    const action = new actions.SnsAction(topic);
    for (const [name, fn] of Object.entries(this.functions)) {
      const alarm = new cloudwatch.Alarm(this, `Errors ${name}`, {
        metric: fn.function.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: `${name}: function errors`,
      });
      alarm.addAlarmAction(action);
      alarm.addOkAction(action);
      this.alarms.push(alarm);
    }
  }
}

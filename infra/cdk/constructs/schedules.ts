import { Annotations, Duration, Stack, Validations, type CfnElement } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke } from 'aws-cdk-lib/aws-scheduler-targets';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { AppFunction } from './app-function';
import { deadLetterQueue } from './queues';

/** One schedule: `infra/routes.ts`'s `schedules` entries. */
export interface ScheduleRoute {
  readonly name: string;
  readonly handler: string;
  readonly rateSeconds: number;
}

export interface SchedulesProps {
  readonly schedules: readonly ScheduleRoute[];
  readonly functionFor: (handler: string) => AppFunction;
  /** Name of the schedule group (one per deployment, so its schedules are listed together). */
  readonly groupName: string;
}

/**
 * The ticks and sweeps, on EventBridge Scheduler: one schedule per entry invoking its function
 * (whose reserved concurrency of 1 keeps two ticks from running at once, as the local scheduler
 * does), a few retries, then one DLQ shared by all schedules (a message names its schedule; one queue
 * and one alarm instead of one per schedule keeps the stack under CloudFormation's 500 resources).
 * Scheduler's finest rate is one minute: a faster entry is rounded up, with a synth warning.
 */
export class Schedules extends Construct {
  readonly schedules: Record<string, { schedule: scheduler.Schedule; dlq: sqs.Queue }> = {};
  readonly group: scheduler.ScheduleGroup | undefined;
  /** Where every schedule's undeliverable ticks go. */
  readonly dlq: sqs.Queue | undefined;

  constructor(scope: Construct, id: string, props: SchedulesProps) {
    super(scope, id);
    if (props.schedules.length === 0) return;
    this.group = new scheduler.ScheduleGroup(this, 'Group', { scheduleGroupName: props.groupName });
    const dlq = deadLetterQueue(this, 'dlq');
    this.dlq = dlq;
    for (const entry of props.schedules) {
      const minutes = Math.max(1, Math.ceil(entry.rateSeconds / 60));
      if (minutes * 60 !== entry.rateSeconds) {
        Annotations.of(this).addWarningV2(
          `sx:schedule-rate:${entry.name}`,
          `Schedule ${entry.name} asks for every ${entry.rateSeconds}s; EventBridge Scheduler runs it every ${minutes} min`,
        );
      }
      const target = props.functionFor(entry.handler).function;
      // One role per schedule, so what it may invoke is exactly its own function.
      const role = new iam.Role(this, `${entry.name}-role`, {
        assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
          conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
        }),
      });
      const targetId = Stack.of(target).getLogicalId(target.node.defaultChild as CfnElement);
      Validations.of(role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${targetId}.Arn>:*]`,
        reason: `lambda grantInvoke adds the qualified ARNs (versions and aliases) of ${entry.handler}'s own function; no other resource is covered.`,
      });
      const schedule = new scheduler.Schedule(this, entry.name, {
        description: `${entry.name} → ${entry.handler}`,
        scheduleGroup: this.group,
        schedule: scheduler.ScheduleExpression.rate(Duration.minutes(minutes)),
        target: new LambdaInvoke(target, {
          role,
          retryAttempts: 3,
          // A tick older than its period is superseded by the next one.
          maxEventAge: Duration.seconds(Math.max(60, minutes * 60)),
          deadLetterQueue: dlq,
        }),
      });
      this.schedules[entry.name] = { schedule, dlq };
    }
  }
}

import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';

export interface AlarmsProps {
  /** Where alarms are sent (an SNS email subscription). */
  readonly email: string;
  /** Every DLQ and on-failure queue: any message in one is an event that was not handled. */
  readonly deadLetterQueues: Record<string, sqs.IQueue>;
  /** Stream consumers: their iterator age says how far the projections are behind. */
  readonly streamConsumers: Record<string, lambda.IFunction>;
  /** The projections' queues: the age of their oldest message says how far each projection is behind. @default none */
  readonly projectionQueues?: Record<string, sqs.IQueue>;
  /** Every function, for the Errors metric. */
  readonly functions: Record<string, lambda.IFunction>;
  readonly api: apigw.HttpApi;
  /** Iterator age that pages. @default Duration.minutes(5) */
  readonly maxIteratorAge?: Duration;
}

/**
 * The alarms an operator is paged for, all to one SNS topic: a message in any DLQ, a stream
 * consumer falling behind, any 5xx from the API (API.md: a 5xx is always a defect), and errors in
 * any function. Missing data is not breaching: quiet is healthy.
 */
export class Alarms extends Construct {
  readonly topic: sns.Topic;
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: AlarmsProps) {
    super(scope, id);
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: 'suanxiang-cloud alarms',
      enforceSSL: true,
      masterKey: kms.Alias.fromAliasName(this, 'SnsKey', 'alias/aws/sns'),
    });
    this.topic.addSubscription(new subscriptions.EmailSubscription(props.email));
    const action = new actions.SnsAction(this.topic);
    const alarm = (id: string, metric: cloudwatch.IMetric, threshold: number, description: string) => {
      const created = new cloudwatch.Alarm(this, id, {
        metric,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
      created.addAlarmAction(action);
      created.addOkAction(action);
      this.alarms.push(created);
      return created;
    };

    for (const [name, queue] of Object.entries(props.deadLetterQueues)) {
      alarm(
        `Dlq ${name}`,
        queue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' }),
        1,
        `${name}: messages in the dead-letter queue (events that were not handled; inspect and redrive)`,
      );
    }
    const maxAge = props.maxIteratorAge ?? Duration.minutes(5);
    for (const [name, fn] of Object.entries(props.streamConsumers)) {
      alarm(
        `IteratorAge ${name}`,
        fn.metric('IteratorAge', { period: Duration.minutes(1), statistic: 'Maximum' }),
        maxAge.toMilliseconds(),
        `${name}: stream iterator age at or above ${maxAge.toMinutes()} min (projections are behind or stuck)`,
      );
    }
    for (const [name, queue] of Object.entries(props.projectionQueues ?? {})) {
      alarm(
        `QueueAge ${name}`,
        queue.metricApproximateAgeOfOldestMessage({ period: Duration.minutes(1), statistic: 'Maximum' }),
        maxAge.toSeconds(),
        `${name}: oldest queued event at or above ${maxAge.toMinutes()} min (the projection is behind or stuck)`,
      );
    }
    alarm(
      'Api5xx',
      props.api.metricServerError({ period: Duration.minutes(1), statistic: 'Sum' }),
      1,
      'The API answered 5xx (always a defect per API.md)',
    );
    for (const [name, fn] of Object.entries(props.functions)) {
      alarm(`Errors ${name}`, fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }), 1, `${name}: function errors`);
    }
  }
}

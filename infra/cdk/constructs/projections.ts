import { Duration } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { AppFunction } from './app-function';
import { deadLetterQueue } from './queues';

/** One consumer of the events table's stream: `infra/routes.ts`'s `streamConsumers` entries. */
export interface StreamConsumer {
  readonly name: string;
  readonly handler: string;
  readonly batchSize: number;
  readonly maxRetries: number;
}

export interface ProjectionsProps {
  /** The table whose stream is consumed (the events table). */
  readonly table: dynamodb.ITable;
  readonly consumers: readonly StreamConsumer[];
  readonly functionFor: (handler: string) => AppFunction;
  /**
   * Records older than this are sent to the on-failure queue instead of retried. Well under the
   * stream's 24 h retention, so the record can still be read and replayed from the stream when
   * the operator acts on the alarm. @default Duration.hours(6)
   */
  readonly maxRecordAge?: Duration;
  /** @default Duration.seconds(1) */
  readonly maxBatchingWindow?: Duration;
}

/**
 * The stream projections: one event source mapping per consumer, in stream order per shard
 * (parallelization 1), with partial batch responses (the handler reports the first failed record
 * and everything after it), bisection on error, bounded retries and record age, and an SQS
 * on-failure destination per consumer that receives the failed batch's shard and sequence range.
 */
export class Projections extends Construct {
  readonly mappings: Record<string, { source: DynamoEventSource; onFailure: sqs.Queue; fn: AppFunction }> = {};

  constructor(scope: Construct, id: string, props: ProjectionsProps) {
    super(scope, id);
    for (const consumer of props.consumers) {
      const fn = props.functionFor(consumer.handler);
      const onFailure = deadLetterQueue(this, `${consumer.name}-on-failure`);
      const source = new DynamoEventSource(props.table, {
        startingPosition: lambda.StartingPosition.TRIM_HORIZON,
        batchSize: consumer.batchSize,
        maxBatchingWindow: props.maxBatchingWindow ?? Duration.seconds(1),
        bisectBatchOnError: true,
        reportBatchItemFailures: true,
        retryAttempts: consumer.maxRetries,
        maxRecordAge: props.maxRecordAge ?? Duration.hours(6),
        parallelizationFactor: 1,
        onFailure: new SqsDlq(onFailure),
        // Only inserts carry events (the table is append-only); nothing else wakes the function.
        filters: [lambda.FilterCriteria.filter({ eventName: lambda.FilterRule.isEqual('INSERT') })],
      });
      fn.function.addEventSource(source);
      this.mappings[consumer.name] = { source, onFailure, fn };
    }
  }
}

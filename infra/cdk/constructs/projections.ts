import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq, SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
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
  /** The one reader of the stream (`functions/forward-events.ts`). */
  readonly forwarder: AppFunction;
  /**
   * Records older than this are sent to the on-failure queue instead of retried. Well under the
   * stream's 24 h retention, so the record can still be read and replayed from the stream when
   * the operator acts on the alarm. @default Duration.hours(6)
   */
  readonly maxRecordAge?: Duration;
  /** @default Duration.seconds(1) */
  readonly maxBatchingWindow?: Duration;
  /** Forwarder retries of a batch before it goes to the on-failure queue. @default 10 */
  readonly forwarderRetries?: number;
}

/** SQS FIFO's most messages in one Lambda batch. */
const MAX_FIFO_BATCH = 10;

/**
 * The stream projections (docs/decisions/0013-one-stream-reader.md). DynamoDB Streams serves at most
 * two readers per shard, so one function reads the events stream (`forward-events`: in stream order
 * per shard, partial batch responses, bisection, bounded retries and age, an on-failure queue) and
 * forwards every inserted event to one SQS FIFO queue per projection, grouped by stream id. Each
 * projection reads its own queue: events of one stream in order, a failing projection holding back
 * only its own queue, its messages going to the projections' FIFO dead-letter queue after its retries.
 */
export class Projections extends Construct {
  readonly forwarding: { source: DynamoEventSource; onFailure: sqs.Queue; fn: AppFunction };
  /** Where a projection's message goes after its retries (shared by all projections). */
  readonly deadLetters: sqs.Queue;
  readonly mappings: Record<string, { source: SqsEventSource; queue: sqs.Queue; deadLetters: sqs.Queue; fn: AppFunction }> = {};

  constructor(scope: Construct, id: string, props: ProjectionsProps) {
    super(scope, id);
    // One FIFO dead-letter queue for every projection (the stack's 500-resource limit): each message
    // keeps its source queue's attributes, so a redrive goes back to the projection it came from.
    this.deadLetters = deadLetterQueue(this, 'projections-dlq', { fifo: true });
    for (const consumer of props.consumers) {
      const fn = props.functionFor(consumer.handler);
      const deadLetters = this.deadLetters;
      const queue = new sqs.Queue(this, `${consumer.name}-queue`, {
        fifo: true,
        // Throughput per message group (stream id), not per queue: streams are independent.
        fifoThroughputLimit: sqs.FifoThroughputLimit.PER_MESSAGE_GROUP_ID,
        deduplicationScope: sqs.DeduplicationScope.MESSAGE_GROUP,
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        // AWS's advice for a Lambda source: six times the function's timeout.
        visibilityTimeout: Duration.seconds(6 * fn.function.timeout!.toSeconds()),
        retentionPeriod: Duration.days(14),
        deadLetterQueue: { queue: deadLetters, maxReceiveCount: consumer.maxRetries + 1 },
        removalPolicy: RemovalPolicy.DESTROY,
      });
      const source = new SqsEventSource(queue, { batchSize: Math.min(consumer.batchSize, MAX_FIFO_BATCH), reportBatchItemFailures: true });
      fn.function.addEventSource(source);
      this.mappings[consumer.name] = { source, queue, deadLetters, fn };
    }

    const fn = props.forwarder;
    const onFailure = deadLetterQueue(this, 'forward-events-on-failure');
    const source = new DynamoEventSource(props.table, {
      startingPosition: lambda.StartingPosition.TRIM_HORIZON,
      batchSize: 100,
      maxBatchingWindow: props.maxBatchingWindow ?? Duration.seconds(1),
      bisectBatchOnError: true,
      reportBatchItemFailures: true,
      retryAttempts: props.forwarderRetries ?? 10,
      maxRecordAge: props.maxRecordAge ?? Duration.hours(6),
      parallelizationFactor: 1,
      onFailure: new SqsDlq(onFailure),
      // Only inserts carry events (the table is append-only); nothing else wakes the function.
      filters: [lambda.FilterCriteria.filter({ eventName: lambda.FilterRule.isEqual('INSERT') })],
    });
    fn.function.addEventSource(source);
    fn.function.addEnvironment('SX_PROJECTION_QUEUES', Object.values(this.mappings).map((m) => m.queue.queueUrl).join(','));
    for (const { queue } of Object.values(this.mappings)) queue.grantSendMessages(fn.role);
    this.forwarding = { source, onFailure, fn };
  }
}

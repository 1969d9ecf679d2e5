import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';

/**
 * A dead-letter (or on-failure) queue: encrypted, TLS only, kept 14 days (SQS's maximum) so an
 * operator has time to inspect and redrive. Every one gets a depth alarm (see `Alarms`).
 */
export function deadLetterQueue(scope: Construct, id: string, options: { fifo?: boolean } = {}): sqs.Queue {
  const queue = new sqs.Queue(scope, id, {
    ...(options.fifo ? { fifo: true } : {}),
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
    removalPolicy: RemovalPolicy.DESTROY,
  });
  Validations.of(queue).acknowledge({
    id: 'AwsSolutions-SQS3',
    reason: 'This queue is itself a dead-letter / on-failure destination; its depth alarm pages an operator instead of a further DLQ.',
  });
  return queue;
}

import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent, SQSEvent, SQSRecord } from 'aws-lambda';
import type { StoredEvent } from './adapters/event-store';
import { upcast } from '../events/upcasters';
import type { LiveViewDeps, Projection } from './views/projection';
import { logger } from './logger';

/** The stored event a stream record carries, or null for anything else (removals, other items). */
export function storedEventOf(record: DynamoDBRecord): StoredEvent | null {
  const image = record.dynamodb?.NewImage;
  if (record.eventName !== 'INSERT' || !image) return null;
  const item = unmarshall(image as Record<string, AttributeValue>);
  // Consumers see the current shape of every event, whatever version it was written with.
  return upcast({
    streamId: item.pk,
    version: Number(item.version),
    type: item.type,
    schemaVersion: Number(item.schemaVersion ?? 1),
    data: item.data ?? {},
    metadata: item.metadata ?? {},
    at: item.at,
  });
}

/**
 * What a projection receives: a batch of the events stream itself (the local stack's pollers), or a
 * batch of its SQS FIFO queue, whose messages are stream records forwarded in order by
 * `forward-events` (in AWS: see docs/decisions/0013-one-stream-reader.md).
 */
export type ProjectionBatch = DynamoDBStreamEvent | SQSEvent;

export type StreamHandler = (event: ProjectionBatch, context?: Context) => Promise<DynamoDBBatchResponse>;

const isSqsBatch = (event: ProjectionBatch): event is SQSEvent => (event.Records[0] as SQSRecord | undefined)?.eventSource === 'aws:sqs';

/**
 * A DynamoDB Streams consumer (Lambda event source mapping with ReportBatchItemFailures) that applies
 * `handle` to each stored event whose stream id starts with `streamPrefix`, in order. After the first
 * failure the rest of the batch is reported failed too: Lambda retries from the lowest failed
 * record, so no later event of a stream is ever applied before an earlier one that failed.
 */
export function streamConsumer(streamPrefix: string, handle: (event: StoredEvent) => Promise<void>): StreamHandler {
  return async (event, context) => {
    const fromQueue = isSqsBatch(event);
    const processor = new BatchProcessor(fromQueue ? EventType.SQS : EventType.DynamoDBStreams);
    let failed = false;
    const recordHandler = async (item: DynamoDBRecord | SQSRecord) => {
      if (failed) throw new Error('Not attempted: an earlier record in this batch failed');
      const record: DynamoDBRecord = fromQueue ? (JSON.parse((item as SQSRecord).body) as DynamoDBRecord) : (item as DynamoDBRecord);
      try {
        const stored = storedEventOf(record);
        if (stored && stored.streamId.startsWith(streamPrefix)) await handle(stored);
      } catch (error) {
        failed = true;
        const sequence = record.dynamodb?.SequenceNumber;
        logger.error('stream record failed', { sequence, error });
        throw error;
      }
    };
    return processPartialResponse(event as DynamoDBStreamEvent, recordHandler, processor, {
      ...(context ? { context } : {}),
      processInParallel: false,
    });
  };
}

/**
 * The live side of projections that read the same kind of stream, as one stream consumer: each
 * event is applied to each projection, in the order given, then shown to `observe` (for metrics:
 * it runs once the event is projected, and only live, never in a rebuild).
 * @throws at once when the projections read different kinds of stream.
 */
export function projectionConsumer(deps: LiveViewDeps, projections: readonly Projection[], observe?: (stored: StoredEvent) => void): StreamHandler {
  const prefixes = new Set(projections.map((p) => p.streamPrefix));
  if (prefixes.size !== 1) throw new Error(`A projection consumer reads one kind of stream, not ${[...prefixes].join(', ') || 'none'}`);
  return streamConsumer([...prefixes][0]!, async (stored) => {
    for (const projection of projections) await projection.apply(deps, stored);
    observe?.(stored);
  });
}

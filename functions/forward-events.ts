import { SendMessageBatchCommand, SQSClient, type SendMessageBatchRequestEntry } from '@aws-sdk/client-sqs';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { LambdaEnv } from './env';

/** SQS's limits on one SendMessageBatch: 10 entries, and 256 KiB of bodies in all. */
const MAX_ENTRIES = 10;
const MAX_BATCH_BYTES = 256 * 1024;

/**
 * The projections' queues from `SX_PROJECTION_QUEUES` (comma-separated SQS FIFO queue URLs).
 * @throws Error when a URL is not that of a FIFO queue (ordering per stream would be lost).
 */
export function projectionQueues(setting: string): string[] {
  const urls = setting.split(',').map((u) => u.trim()).filter(Boolean);
  const notFifo = urls.filter((u) => !u.endsWith('.fifo'));
  if (notFifo.length > 0) throw new Error(`SX_PROJECTION_QUEUES must name FIFO queues only, not ${notFifo.join(', ')}`);
  return urls;
}

/** One record as a FIFO message: grouped by its stream id (order within a stream), deduplicated by its stream record id. */
function entryOf(record: DynamoDBRecord, index: number): SendMessageBatchRequestEntry {
  const streamId = record.dynamodb?.Keys?.pk?.S;
  if (!streamId || !record.eventID) throw new Error(`Stream record ${record.dynamodb?.SequenceNumber} has no pk or eventID`);
  return { Id: String(index), MessageBody: JSON.stringify(record), MessageGroupId: streamId, MessageDeduplicationId: record.eventID };
}

/** Consecutive runs of entries that fit one SendMessageBatch each, in order. */
function chunksOf(entries: SendMessageBatchRequestEntry[]): SendMessageBatchRequestEntry[][] {
  const chunks: SendMessageBatchRequestEntry[][] = [];
  let current: SendMessageBatchRequestEntry[] = [];
  let bytes = 0;
  for (const entry of entries) {
    const size = Buffer.byteLength(entry.MessageBody!);
    if (current.length === MAX_ENTRIES || (current.length > 0 && bytes + size > MAX_BATCH_BYTES)) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(entry);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/**
 * The one reader of the events stream in AWS: forwards each inserted record, in stream order, to
 * every projection's SQS FIFO queue, grouped by stream id. Each projection then reads its own queue,
 * so a failing projection holds back only itself, and the stream keeps one reader per shard
 * (DynamoDB Streams allows two). A record not forwarded to every queue is reported failed with every
 * record after it, so Lambda retries from there in order; a record already forwarded is dropped by the
 * queue's deduplication (its stream record id) when sent again within SQS's 5-minute window, and the
 * projections are idempotent past it.
 */
export const make = (sqs: SQSClient, queueUrls: readonly string[]) => async (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => {
  const records = event.Records.filter((r) => r.eventName === 'INSERT');
  let chunkStart = 0;
  try {
    for (const chunk of chunksOf(records.map(entryOf))) {
      const results = await Promise.all(
        queueUrls.map(async (QueueUrl) => (await sqs.send(new SendMessageBatchCommand({ QueueUrl, Entries: chunk }))).Failed ?? []),
      );
      const failed = results.flat();
      if (failed.length > 0) {
        console.error(JSON.stringify({ level: 'ERROR', message: 'Not forwarded to every projection', failed }));
        return { batchItemFailures: failuresFrom(records, Math.min(...failed.map((f) => Number(f.Id)))) };
      }
      chunkStart += chunk.length;
    }
  } catch (error) {
    // Which queues took the chunk is unknown: retry from its first record (a resend is deduplicated).
    console.error(JSON.stringify({ level: 'ERROR', message: 'Not forwarded to every projection', error: String(error) }));
    return { batchItemFailures: failuresFrom(records, chunkStart) };
  }
  return { batchItemFailures: [] };
};

/** The record at `index` and every one after it, as Lambda's partial batch response. */
function failuresFrom(records: DynamoDBRecord[], index: number): DynamoDBBatchResponse['batchItemFailures'] {
  return records.slice(index).map((r) => ({ itemIdentifier: r.dynamodb!.SequenceNumber! }));
}

let forward: ReturnType<typeof make> | undefined;
export const handler = (event: DynamoDBStreamEvent) => {
  forward ??= make(new SQSClient({}), projectionQueues(LambdaEnv.parse(process.env).SX_PROJECTION_QUEUES));
  return forward(event);
};

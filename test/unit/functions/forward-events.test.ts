import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBRecord, DynamoDBStreamEvent, SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { make, projectionQueues } from '../../../functions/forward-events';
import { streamConsumer } from '../../../functions/stream';

const QUEUES = ['https://sqs.us-east-1.amazonaws.com/1/sx-project-job-views.fifo', 'https://sqs.us-east-1.amazonaws.com/1/sx-project-ledger.fifo'];

/** A stream record of one appended event, as DynamoDB Streams delivers it. */
function record(streamId: string, version: number, sequence: number): DynamoDBRecord {
  const sk = String(version).padStart(10, '0');
  return {
    eventID: `ev-${sequence}`,
    eventName: 'INSERT',
    eventSource: 'aws:dynamodb',
    dynamodb: {
      Keys: { pk: { S: streamId }, sk: { S: sk } },
      NewImage: {
        pk: { S: streamId }, sk: { S: sk }, version: { N: String(version) }, type: { S: 'JobSubmitted' },
        schemaVersion: { N: '1' }, data: { M: {} }, metadata: { M: {} }, at: { S: '2026-01-01T00:00:00.000Z' },
      },
      SequenceNumber: String(sequence),
    },
  };
}

const sqs = mockClient(SQSClient);
afterEach(() => sqs.reset());

describe('forward-events', () => {
  it('sends each inserted record to every projection queue, in order, grouped by stream id and deduplicated by record id', async () => {
    // Prepare
    sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    const records = Array.from({ length: 12 }, (_, i) => record(`job#${i % 2}`, i + 1, 100 + i));
    const event: DynamoDBStreamEvent = { Records: [...records, { ...record('job#0', 99, 999), eventName: 'MODIFY' }] };

    // Act
    const response = await make(new SQSClient({}), QUEUES)(event);

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    const calls = sqs.commandCalls(SendMessageBatchCommand).map((c) => c.args[0].input);
    for (const url of QUEUES) {
      const entries = calls.filter((c) => c.QueueUrl === url).flatMap((c) => c.Entries!);
      expect(calls.filter((c) => c.QueueUrl === url).every((c) => c.Entries!.length <= 10)).toBe(true);
      expect(entries.map((e) => e.MessageDeduplicationId)).toEqual(records.map((r) => r.eventID));
      expect(entries.map((e) => e.MessageGroupId)).toEqual(records.map((r) => r.dynamodb!.Keys!.pk!.S));
      expect(entries.map((e) => JSON.parse(e.MessageBody!))).toEqual(records);
    }
  });

  it('reports the first record a queue refused and every one after it, so Lambda retries from there in order', async () => {
    // Prepare: the second queue refuses the third record of the only chunk.
    sqs.on(SendMessageBatchCommand, { QueueUrl: QUEUES[0] }).resolves({ Failed: [] });
    sqs.on(SendMessageBatchCommand, { QueueUrl: QUEUES[1] }).resolves({ Failed: [{ Id: '2', Code: 'InternalError', SenderFault: false }] });
    const records = [record('job#a', 1, 1), record('job#b', 1, 2), record('job#a', 2, 3), record('job#b', 2, 4)];

    // Act
    const response = await make(new SQSClient({}), QUEUES)({ Records: records });

    // Assess
    expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(['3', '4']);
  });

  it('retries a whole chunk whose send threw, from its first record', async () => {
    // Prepare: the first chunk (10 records) goes through, the second throws.
    let calls = 0;
    sqs.on(SendMessageBatchCommand).callsFake(() => {
      calls += 1;
      if (calls > QUEUES.length) throw new Error('socket hang up');
      return { Failed: [] };
    });
    const records = Array.from({ length: 13 }, (_, i) => record('job#a', i + 1, i + 1));

    // Act
    const response = await make(new SQSClient({}), QUEUES)({ Records: records });

    // Assess
    expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(['11', '12', '13']);
  });

  it('takes only FIFO queue URLs', () => {
    expect(projectionQueues(` ${QUEUES.join(' , ')} `)).toEqual(QUEUES);
    expect(projectionQueues('')).toEqual([]);
    expect(() => projectionQueues('https://sqs.us-east-1.amazonaws.com/1/plain')).toThrow(/FIFO queues only/);
  });
});

describe('streamConsumer on a projection queue', () => {
  it('applies the forwarded records in order and reports the first failed message and every one after it', async () => {
    // Prepare
    const records = [record('job#a', 1, 1), record('job#a', 2, 2), record('job#a', 3, 3)];
    const event: SQSEvent = {
      Records: records.map((r, i) => ({
        messageId: `m${i}`, receiptHandle: 'h', body: JSON.stringify(r), attributes: {} as never, messageAttributes: {},
        md5OfBody: '', eventSource: 'aws:sqs', eventSourceARN: 'arn:aws:sqs:us-east-1:1:q.fifo', awsRegion: 'us-east-1',
      })),
    };
    const applied: number[] = [];
    const consume = streamConsumer('job#', async (stored) => {
      if (stored.version === 2) throw new Error('view write failed');
      applied.push(stored.version);
    });

    // Act
    const response = await consume(event);

    // Assess
    expect(applied).toEqual([1]);
    expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(['m1', 'm2']);
  });
});

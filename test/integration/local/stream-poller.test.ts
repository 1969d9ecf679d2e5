import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { StreamPoller } from '../../../infra/local/stream-poller';
import { storedEventOf, streamConsumer } from '../../../functions/stream';
import { createTestTables, testDynamoEndpoint, type TestTables } from '../../support/dynamodb';
import { eventually } from '../../../infra/local/stack-process';

let tables: TestTables;
let streams: DynamoDBStreamsClient;
let streamArn: string;
const pollers: StreamPoller[] = [];

beforeEach(async () => {
  tables = await createTestTables();
  const { Table } = await tables.client.send(new DescribeTableCommand({ TableName: tables.names.events }));
  streamArn = Table!.LatestStreamArn!;
  streams = new DynamoDBStreamsClient({ endpoint: testDynamoEndpoint(), region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
});

afterEach(async () => {
  await Promise.all(pollers.splice(0).map((p) => p.stop()));
  streams.destroy();
  await tables.drop();
});

const at = new Date().toISOString();
const append = (streamId: string, expectedVersion: number, ...types: string[]) =>
  tables.store.append([{ streamId, expectedVersion, events: types.map((type) => ({ type, data: { nested: {}, list: [] } })) }], { at });

function poller(name: string, handler: (event: DynamoDBStreamEvent) => Promise<{ batchItemFailures: Array<{ itemIdentifier: string }> }>, maxRetries = 3) {
  const p = new StreamPoller({ streams, streamArn, consumer: { name, batchSize: 10, maxRetries }, handler, doc: tables.doc, viewsTable: tables.names.views, pollMs: 20 });
  pollers.push(p);
  p.start();
  return p;
}

/** Stream ids and versions, as a handler saw them. */
const seen = (event: DynamoDBStreamEvent) => event.Records.map((r) => storedEventOf(r)).map((e) => `${e!.streamId}@${e!.version}`);

describe('StreamPoller (the local event source mapping)', () => {
  it('delivers every record once, in order, shaped like Lambda records (empty maps included)', async () => {
    const got: string[] = [];
    let sample: unknown;
    poller('in-order', async (event) => {
      got.push(...seen(event));
      sample ??= storedEventOf(event.Records[0]!);
      return { batchItemFailures: [] };
    });
    await append('a#1', 0, 'One', 'Two');
    await append('a#1', 2, 'Three');
    await eventually(async () => got.length >= 3, 10_000, 'three records');
    expect(got).toEqual(['a#1@1', 'a#1@2', 'a#1@3']);
    expect(sample).toMatchObject({ streamId: 'a#1', version: 1, type: 'One', data: { nested: {}, list: [] }, at });
  });

  it('retries from the lowest failed record, so nothing after it is skipped or reordered', async () => {
    const got: string[] = [];
    let failures = 0;
    poller('partial', async (event) => {
      const ids = seen(event);
      const failAt = ids.indexOf('b#1@2');
      if (failAt >= 0 && failures < 2) {
        failures++;
        got.push(...ids.slice(0, failAt));
        return { batchItemFailures: event.Records.slice(failAt).map((r) => ({ itemIdentifier: r.dynamodb!.SequenceNumber! })) };
      }
      got.push(...ids);
      return { batchItemFailures: [] };
    });
    await append('b#1', 0, 'One', 'Two', 'Three');
    await eventually(async () => got.includes('b#1@3'), 15_000, 'the retried records');
    expect(failures).toBe(2);
    // b#1@1 was acknowledged before the failure: it is never handed out again.
    expect(got.filter((id) => id === 'b#1@1')).toHaveLength(1);
    expect(got.slice(-2)).toEqual(['b#1@2', 'b#1@3']);
  });

  it('sends a record that keeps failing to the dead-letter list after maxRetries and moves on', async () => {
    const got: string[] = [];
    poller('poison', async (event) => {
      const ids = seen(event);
      const failAt = ids.indexOf('c#1@1');
      if (failAt >= 0) return { batchItemFailures: [{ itemIdentifier: event.Records[failAt]!.dynamodb!.SequenceNumber! }] };
      got.push(...ids);
      return { batchItemFailures: [] };
    }, 1);
    await append('c#1', 0, 'Poison');
    await append('c#1', 1, 'Fine');
    await eventually(async () => got.includes('c#1@2'), 15_000, 'the record after the poison one');
    const { Items } = await tables.doc.send(new QueryCommand({ TableName: tables.names.views, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': 'dead-letter#poison' } }));
    expect(Items).toHaveLength(1);
    expect(Items![0]!.attempts).toBe(2);
    expect(got).toEqual(['c#1@2']);
  });

  it('resumes after its checkpoint when restarted: nothing twice, nothing lost', async () => {
    const first: string[] = [];
    const p1 = poller('resume', async (event) => {
      first.push(...seen(event));
      return { batchItemFailures: [] };
    });
    await append('d#1', 0, 'One', 'Two');
    await eventually(async () => first.length === 2, 10_000, 'the first two');
    await p1.stop();
    await append('d#1', 2, 'Three');
    const second: string[] = [];
    poller('resume', async (event) => {
      second.push(...seen(event));
      return { batchItemFailures: [] };
    });
    await eventually(async () => second.length === 1, 10_000, 'the third after restart');
    await new Promise((r) => setTimeout(r, 200));
    expect(second).toEqual(['d#1@3']);
  });

  it('says when it has caught up: every record written before it started handled and checkpointed, a retried one included', async () => {
    // Twelve records before the start (two batches of ten at most), the 7th failing once.
    await append('f#1', 0, ...Array.from({ length: 12 }, (_, i) => `E${i + 1}`));
    const got: string[] = [];
    let failOnce = true;
    const p = poller('catch-up', async (event) => {
      const ids = seen(event);
      const failAt = ids.indexOf('f#1@7');
      if (failAt >= 0 && failOnce) {
        failOnce = false;
        got.push(...ids.slice(0, failAt));
        return { batchItemFailures: event.Records.slice(failAt).map((r) => ({ itemIdentifier: r.dynamodb!.SequenceNumber! })) };
      }
      got.push(...ids);
      return { batchItemFailures: [] };
    });

    await p.caughtUp;

    expect(got).toEqual(Array.from({ length: 12 }, (_, i) => `f#1@${i + 1}`));
    // A restarted poller on the same consumer has nothing left to read.
    await p.stop();
    const again: string[] = [];
    const p2 = poller('catch-up', async (event) => {
      again.push(...seen(event));
      return { batchItemFailures: [] };
    });
    await p2.caughtUp;
    expect(again).toEqual([]);
  });

  it('with streamConsumer, fails the rest of a batch after the first failure, so a later event never overtakes an earlier one', async () => {
    const handled: string[] = [];
    let failOnce = true;
    const handler = streamConsumer('e#', async (stored) => {
      if (stored.version === 2 && failOnce) {
        failOnce = false;
        throw new Error('transient');
      }
      handled.push(`${stored.streamId}@${stored.version}`);
    });
    poller('consumer', handler);
    await append('e#1', 0, 'One', 'Two', 'Three');
    await eventually(async () => handled.length >= 3, 15_000, 'all three');
    expect(handled).toEqual(['e#1@1', 'e#1@2', 'e#1@3']);
  });
});

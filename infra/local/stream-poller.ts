import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  ExpiredIteratorException,
  GetRecordsCommand,
  TrimmedDataAccessException,
  GetShardIteratorCommand,
  type _Record,
  type Shard,
} from '@aws-sdk/client-dynamodb-streams';
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import type { StreamHandler } from '../../functions/stream';
import { logger } from '../../functions/logger';

export interface PollerOptions {
  streams: DynamoDBStreamsClient;
  streamArn: string;
  consumer: { name: string; batchSize: number; maxRetries: number };
  handler: StreamHandler;
  /** Where checkpoints and dead letters are kept (the views table), so a restart resumes. */
  doc: DynamoDBDocumentClient;
  viewsTable: string;
  /** Idle wait between polls. Lambda polls each shard about 4 times a second; locally we can afford more. */
  pollMs?: number;
}

interface ShardCursor {
  shard: Shard;
  iterator?: string;
  done: boolean;
  /** Attempts so far at the record currently failing, by its sequence number. */
  failures: Map<string, number>;
}

/**
 * DynamoDB Local's stream, read through the Streams SDK client, gives an empty map as `{}` instead
 * of `{ "M": {} }` (Lambda's records do not), which `unmarshall` rejects. Empty lists come as
 * `{ "L": [] }`, so a bare `{}` can only be an empty map.
 */
function restoreEmptyMaps(image: Record<string, unknown>): Record<string, unknown> {
  const value = (av: any): unknown => {
    if (av && typeof av === 'object' && Object.keys(av).length === 0) return { M: {} };
    if (av?.M) return { M: restoreEmptyMaps(av.M) };
    if (Array.isArray(av?.L)) return { L: av.L.map(value) };
    return av;
  };
  return Object.fromEntries(Object.entries(image).map(([key, av]) => [key, value(av)]));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The local stand-in for Lambda's DynamoDB Streams event source mapping: reads each shard in order
 * (children after their parents), invokes the handler with batches shaped like Lambda's, honours
 * partial batch responses by checkpointing before the lowest failed record and retrying from it,
 * and after `maxRetries` sends that record to a dead-letter item and moves on, as an on-failure
 * destination would. Checkpoints are durable, so a restarted stack resumes where it stopped.
 */
export class StreamPoller {
  private readonly shards = new Map<string, ShardCursor>();
  private stopping = false;
  private loop: Promise<void> | undefined;
  private lastDescribe = 0;
  private markCaughtUp: () => void = () => {};
  /**
   * Resolves the first time a poll finds every shard read to its end: every record written before
   * that moment has been handled and checkpointed (what a restarted stack waits for before it trusts
   * the views its consumers write). Never resolves if the poller stops first.
   */
  readonly caughtUp: Promise<void> = new Promise((resolve) => {
    this.markCaughtUp = resolve;
  });

  constructor(private readonly options: PollerOptions) {}

  start(): void {
    this.loop ??= this.run();
  }

  /** Stops polling after the batch in flight has been handled and checkpointed. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      let worked = false;
      try {
        worked = await this.pollOnce();
      } catch (error) {
        logger.error('stream poll failed', { consumer: this.options.consumer.name, error });
        await sleep(1_000);
      }
      if (!worked && !this.stopping) await sleep(this.options.pollMs ?? 50);
    }
  }

  /** Polls every readable shard once; true if any records were handled. */
  private async pollOnce(): Promise<boolean> {
    await this.refreshShards();
    let worked = false;
    /** A shard not read to its end in this round: waiting for its parent, or its iterator dropped after an error. */
    let unread = false;
    for (const cursor of this.shards.values()) {
      if (this.stopping) return worked;
      if (cursor.done) continue;
      if (!this.parentDone(cursor)) {
        unread = true;
        continue;
      }
      worked = (await this.pollShard(cursor)) || worked;
      if (!cursor.done && cursor.iterator === undefined) unread = true;
    }
    if (!worked && !unread) this.markCaughtUp();
    return worked;
  }

  private parentDone(cursor: ShardCursor): boolean {
    const parent = cursor.shard.ParentShardId ? this.shards.get(cursor.shard.ParentShardId) : undefined;
    return !parent || parent.done;
  }

  private async refreshShards(): Promise<void> {
    if (Date.now() - this.lastDescribe < 1_000 && this.shards.size > 0) return;
    this.lastDescribe = Date.now();
    let start: string | undefined;
    do {
      const { StreamDescription } = await this.options.streams.send(
        new DescribeStreamCommand({ StreamArn: this.options.streamArn, ExclusiveStartShardId: start }),
      );
      for (const shard of StreamDescription?.Shards ?? []) {
        if (!shard.ShardId || this.shards.has(shard.ShardId)) continue;
        const saved = await this.checkpoint(shard.ShardId);
        this.shards.set(shard.ShardId, { shard, done: saved?.done === true, failures: new Map() });
      }
      start = StreamDescription?.LastEvaluatedShardId;
    } while (start);
  }

  private async pollShard(cursor: ShardCursor): Promise<boolean> {
    const shardId = cursor.shard.ShardId!;
    if (!cursor.iterator) cursor.iterator = await this.iteratorFromCheckpoint(shardId);
    let page;
    try {
      page = await this.options.streams.send(
        new GetRecordsCommand({ ShardIterator: cursor.iterator, Limit: this.options.consumer.batchSize }),
      );
    } catch (error) {
      // DynamoDB Local answers TrimmedDataAccessException to an iterator taken while a new table's
      // shard was still empty once the first record arrives (aws/aws-sdk-java#2923), and would keep
      // answering it to that iterator forever. As for an expired one, a fresh iterator from the
      // checkpoint reads on (from TRIM_HORIZON when there is none), which is also where Lambda
      // resumes a mapping whose position was trimmed.
      if (error instanceof ExpiredIteratorException || error instanceof TrimmedDataAccessException) {
        cursor.iterator = undefined;
        return false;
      }
      throw error;
    }
    const records = page.Records ?? [];
    if (records.length === 0) {
      if (!page.NextShardIterator) await this.finishShard(cursor);
      else cursor.iterator = page.NextShardIterator;
      return false;
    }
    const failedAt = await this.invoke(records);
    if (failedAt === -1) {
      await this.saveCheckpoint(shardId, records.at(-1)!.dynamodb!.SequenceNumber!);
      if (!page.NextShardIterator) await this.finishShard(cursor);
      else cursor.iterator = page.NextShardIterator;
      return true;
    }
    await this.retryFrom(cursor, records, failedAt);
    return true;
  }

  /** Invokes the handler; returns the index of the lowest failed record, or -1 when all succeeded. */
  private async invoke(records: _Record[]): Promise<number> {
    const event: DynamoDBStreamEvent = { Records: records.map((r) => this.toLambdaRecord(r)) };
    try {
      const response = await this.options.handler(event);
      const failed = new Set((response?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
      return records.findIndex((r) => failed.has(r.dynamodb?.SequenceNumber ?? ''));
    } catch (error) {
      // A thrown handler error fails the whole batch, as in Lambda.
      logger.error('stream batch failed', { consumer: this.options.consumer.name, error });
      return 0;
    }
  }

  private async retryFrom(cursor: ShardCursor, records: _Record[], failedAt: number): Promise<void> {
    const shardId = cursor.shard.ShardId!;
    if (failedAt > 0) await this.saveCheckpoint(shardId, records[failedAt - 1]!.dynamodb!.SequenceNumber!);
    const failed = records[failedAt]!;
    const sequence = failed.dynamodb!.SequenceNumber!;
    const attempts = (cursor.failures.get(sequence) ?? 0) + 1;
    cursor.failures.clear();
    if (attempts > this.options.consumer.maxRetries) {
      await this.deadLetter(failed, attempts);
      await this.saveCheckpoint(shardId, sequence);
      cursor.iterator = await this.iterator(shardId, 'AFTER_SEQUENCE_NUMBER', sequence);
      return;
    }
    cursor.failures.set(sequence, attempts);
    await sleep(Math.min(100 * 2 ** attempts, 5_000));
    cursor.iterator = await this.iterator(shardId, 'AT_SEQUENCE_NUMBER', sequence);
  }

  private async finishShard(cursor: ShardCursor): Promise<void> {
    cursor.done = true;
    await this.options.doc.send(
      new PutCommand({
        TableName: this.options.viewsTable,
        Item: { pk: `checkpoint#${this.options.consumer.name}`, sk: cursor.shard.ShardId, done: true },
      }),
    );
  }

  private async iteratorFromCheckpoint(shardId: string): Promise<string | undefined> {
    const saved = await this.checkpoint(shardId);
    return saved?.sequenceNumber
      ? this.iterator(shardId, 'AFTER_SEQUENCE_NUMBER', saved.sequenceNumber)
      : this.iterator(shardId, 'TRIM_HORIZON');
  }

  private async iterator(shardId: string, type: 'TRIM_HORIZON' | 'AT_SEQUENCE_NUMBER' | 'AFTER_SEQUENCE_NUMBER', sequence?: string) {
    const { ShardIterator } = await this.options.streams.send(
      new GetShardIteratorCommand({
        StreamArn: this.options.streamArn,
        ShardId: shardId,
        ShardIteratorType: type,
        ...(sequence ? { SequenceNumber: sequence } : {}),
      }),
    );
    return ShardIterator;
  }

  private async checkpoint(shardId: string): Promise<{ sequenceNumber?: string; done?: boolean } | undefined> {
    const { Item } = await this.options.doc.send(
      new GetCommand({
        TableName: this.options.viewsTable,
        Key: { pk: `checkpoint#${this.options.consumer.name}`, sk: shardId },
        ConsistentRead: true,
      }),
    );
    return Item as { sequenceNumber?: string; done?: boolean } | undefined;
  }

  private async saveCheckpoint(shardId: string, sequenceNumber: string): Promise<void> {
    await this.options.doc.send(
      new PutCommand({
        TableName: this.options.viewsTable,
        Item: { pk: `checkpoint#${this.options.consumer.name}`, sk: shardId, sequenceNumber },
      }),
    );
  }

  private async deadLetter(record: _Record, attempts: number): Promise<void> {
    const sequence = record.dynamodb!.SequenceNumber!;
    logger.error('record sent to the dead-letter list', { consumer: this.options.consumer.name, sequence, attempts });
    await this.options.doc.send(
      new PutCommand({
        TableName: this.options.viewsTable,
        Item: { pk: `dead-letter#${this.options.consumer.name}`, sk: sequence, attempts, record: JSON.stringify(record) },
      }),
    );
  }

  private toLambdaRecord(record: _Record): DynamoDBRecord {
    return toLambdaRecord(record, this.options.streamArn);
  }
}

/** A record of the Streams API as Lambda's DynamoDB event source mapping hands it to a function. */
export function toLambdaRecord(record: _Record, streamArn: string): DynamoDBRecord {
  const created = record.dynamodb?.ApproximateCreationDateTime;
  return {
    eventID: record.eventID,
    eventName: record.eventName as DynamoDBRecord['eventName'],
    eventVersion: record.eventVersion,
    eventSource: 'aws:dynamodb',
    awsRegion: record.awsRegion,
    eventSourceARN: streamArn,
    dynamodb: {
      ...(record.dynamodb as DynamoDBRecord['dynamodb']),
      ...(record.dynamodb?.NewImage ? { NewImage: restoreEmptyMaps(record.dynamodb.NewImage as Record<string, unknown>) as never } : {}),
      ApproximateCreationDateTime: created ? Math.floor(new Date(created).getTime() / 1000) : undefined,
    },
  };
}

import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { DynamoDbRequestCounter, InMemoryRequestCounter } from '../../functions/http/rate-limits';
import { createTestTables, type TestTables } from '../support/dynamodb';
import { requestCounterContract } from '../support/request-counter-contract';

requestCounterContract('in memory', async () => ({ counter: new InMemoryRequestCounter() }));

requestCounterContract('DynamoDB Local', async () => {
  const tables = await createTestTables();
  return { counter: new DynamoDbRequestCounter(tables.doc, tables.names.views), cleanup: () => tables.drop() };
});

describe('DynamoDbRequestCounter on DynamoDB Local', () => {
  let tables: TestTables;
  beforeAll(async () => {
    tables = await createTestTables();
  });
  afterAll(async () => tables.drop());

  it('keeps a window as one views item that TTL removes after the window, its expiry set by the first request', async () => {
    const counter = new DynamoDbRequestCounter(tables.doc, tables.names.views);
    await counter.add('ratelimit#signup#203.0.113.7', '1764720000', 1764723660);
    await counter.add('ratelimit#signup#203.0.113.7', '1764720000', 1764723999);
    const { Item } = await tables.doc.send(new GetCommand({ TableName: tables.names.views, Key: { pk: 'ratelimit#signup#203.0.113.7', sk: '1764720000' } }));
    expect(Item).toEqual({ pk: 'ratelimit#signup#203.0.113.7', sk: '1764720000', hits: 2, expiresAt: 1764723660 });
  });
});

import { randomBytes } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { inject } from 'vitest';
import { createDynamoClients } from '../../functions/adapters/dynamodb';
import { DynamoDbEventStore } from '../../functions/adapters/dynamodb-event-store';
import { deleteTables, ensureTables } from '../../infra/local/create-tables';
import { tableNames, type TableNames } from '../../infra/tables';

/** Fresh tables on the run's DynamoDB Local, and what a test needs to use them. */
export interface TestTables {
  client: DynamoDBClient;
  doc: DynamoDBDocumentClient;
  names: TableNames;
  store: DynamoDbEventStore;
  /** Deletes the tables and closes the clients. */
  drop(): Promise<void>;
}

/** The endpoint of the DynamoDB Local that `test/support/global-setup.ts` started. */
export function testDynamoEndpoint(): string {
  const endpoint = inject('dynamoEndpoint') ?? process.env.SX_TEST_DYNAMODB_ENDPOINT;
  if (!endpoint) {
    throw new Error('No DynamoDB Local endpoint: run the tests with vitest.config.ts (its globalSetup starts one)');
  }
  return endpoint;
}

/**
 * Creates the `events` and `views` tables under a random prefix (`sx-test-<hex>`), so every call is
 * isolated and test files can run in parallel on the one DynamoDB Local.
 */
export async function createTestTables(): Promise<TestTables> {
  const { client, doc } = createDynamoClients({ endpoint: testDynamoEndpoint() });
  const names = tableNames(`sx-test-${randomBytes(6).toString('hex')}`);
  await ensureTables(client, names);
  return {
    client,
    doc,
    names,
    store: new DynamoDbEventStore({ doc, tableName: names.events, viewsTableName: names.views }),
    async drop() {
      try {
        await deleteTables(client, names);
      } finally {
        client.destroy();
      }
    },
  };
}

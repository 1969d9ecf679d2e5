import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { commandHandlerContract } from '../support/command-handler-contract';
import { eventStoreContract } from '../support/event-store-contract';
import { createTestTables } from '../support/dynamodb';

eventStoreContract('DynamoDB', async () => {
  const tables = await createTestTables();
  const readView = async (pk: string, sk: string) =>
    (await tables.doc.send(new GetCommand({ TableName: tables.names.views, Key: { pk, sk }, ConsistentRead: true }))).Item;
  return { store: tables.store, readView, cleanup: tables.drop };
});

commandHandlerContract('DynamoDB', async () => {
  const tables = await createTestTables();
  return { store: tables.store, cleanup: tables.drop };
});

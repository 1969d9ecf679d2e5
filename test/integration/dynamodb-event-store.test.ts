import { eventStoreContract } from '../support/event-store-contract';
import { createTestTables } from '../support/dynamodb';

eventStoreContract('DynamoDB', async () => {
  const tables = await createTestTables();
  return { store: tables.store, cleanup: tables.drop };
});

import {
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
  waitUntilTableNotExists,
  type DynamoDBClient,
  type TableDescription,
} from '@aws-sdk/client-dynamodb';
import { tables, type TableDefinition, type TableNames } from '../tables';

/** Polling bounds for the SDK waiters: DynamoDB Local is instant, a real table takes seconds. */
const WAITER = { minDelay: 1, maxDelay: 5, maxWaitTime: 120 };

/**
 * Creates the `events`, `views` and `metrics` tables (on-demand billing, `NEW_IMAGE` stream on events) unless
 * they exist, and waits until both are ACTIVE. Idempotent: run it on every start of the local stack;
 * a table created concurrently by someone else counts as existing.
 * @throws Error if a table of that name exists with a different key schema or without the stream the
 *   definition asks for (a stale `.data/` directory: delete it), or any SDK error.
 */
export async function ensureTables(client: DynamoDBClient, names: TableNames): Promise<void> {
  await Promise.all([
    ensureTable(client, names.events, tables.events),
    ensureTable(client, names.views, tables.views),
    ensureTable(client, names.metrics, tables.metrics),
  ]);
}

/**
 * Deletes the tables and waits until they are gone; a missing table is skipped.
 * @throws any SDK error other than "not found".
 */
export async function deleteTables(client: DynamoDBClient, names: TableNames): Promise<void> {
  await Promise.all(
    [names.events, names.views, names.metrics].map(async (TableName) => {
      try {
        await client.send(new DeleteTableCommand({ TableName }));
      } catch (error) {
        if (isNamed(error, 'ResourceNotFoundException')) return;
        throw error;
      }
      await waitUntilTableNotExists({ client, ...WAITER }, { TableName });
    }),
  );
}

async function ensureTable(client: DynamoDBClient, tableName: string, definition: TableDefinition): Promise<void> {
  let existing = await describe(client, tableName);
  if (existing === undefined) {
    try {
      await client.send(
        new CreateTableCommand({
          TableName: tableName,
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: [
            { AttributeName: definition.partitionKey.name, AttributeType: definition.partitionKey.type },
            { AttributeName: definition.sortKey.name, AttributeType: definition.sortKey.type },
          ],
          KeySchema: [
            { AttributeName: definition.partitionKey.name, KeyType: 'HASH' },
            { AttributeName: definition.sortKey.name, KeyType: 'RANGE' },
          ],
          ...(definition.stream !== undefined
            ? { StreamSpecification: { StreamEnabled: true, StreamViewType: definition.stream } }
            : {}),
        }),
      );
    } catch (error) {
      // Another process created it between our describe and create: fine, it is the same definition
      // or the check below says otherwise.
      if (!isNamed(error, 'ResourceInUseException')) throw error;
    }
    existing = (await waitUntilTableExists({ client, ...WAITER }, { TableName: tableName })).reason?.Table;
  } else if (existing.TableStatus !== 'ACTIVE') {
    existing = (await waitUntilTableExists({ client, ...WAITER }, { TableName: tableName })).reason?.Table;
  }
  if (existing !== undefined) assertMatches(tableName, existing, definition);
  if (definition.timeToLiveAttribute !== undefined) await ensureTimeToLive(client, tableName, definition.timeToLiveAttribute);
}

/**
 * Enables TTL on `attribute` unless it already is (as the CDK stack does in AWS), so the local table
 * expires what AWS would. Enabling is idempotent only while off: DynamoDB refuses a second enable.
 */
async function ensureTimeToLive(client: DynamoDBClient, tableName: string, attribute: string): Promise<void> {
  const { TimeToLiveDescription } = await client.send(new DescribeTimeToLiveCommand({ TableName: tableName }));
  const status = TimeToLiveDescription?.TimeToLiveStatus;
  if ((status === 'ENABLED' || status === 'ENABLING') && TimeToLiveDescription?.AttributeName === attribute) return;
  try {
    await client.send(new UpdateTimeToLiveCommand({ TableName: tableName, TimeToLiveSpecification: { AttributeName: attribute, Enabled: true } }));
  } catch (error) {
    // Another process enabled it between our describe and update.
    if (!(isNamed(error, 'ValidationException') && /already enabled/i.test((error as Error).message))) throw error;
  }
}

async function describe(client: DynamoDBClient, tableName: string): Promise<TableDescription | undefined> {
  try {
    return (await client.send(new DescribeTableCommand({ TableName: tableName }))).Table;
  } catch (error) {
    if (isNamed(error, 'ResourceNotFoundException')) return undefined;
    throw error;
  }
}

/** A table left over from an older schema would fail in confusing ways later; say so now. */
function assertMatches(tableName: string, table: TableDescription, definition: TableDefinition): void {
  const keyOf = (type: 'HASH' | 'RANGE') => table.KeySchema?.find((key) => key.KeyType === type)?.AttributeName;
  const problems: string[] = [];
  if (keyOf('HASH') !== definition.partitionKey.name) problems.push(`partition key is ${keyOf('HASH')}, not ${definition.partitionKey.name}`);
  if (keyOf('RANGE') !== definition.sortKey.name) problems.push(`sort key is ${keyOf('RANGE')}, not ${definition.sortKey.name}`);
  if (definition.stream !== undefined && table.StreamSpecification?.StreamViewType !== definition.stream) {
    problems.push(`stream is ${table.StreamSpecification?.StreamViewType ?? 'off'}, not ${definition.stream}`);
  }
  if (problems.length > 0) {
    throw new Error(`Table ${tableName} exists but does not match its definition: ${problems.join('; ')}`);
  }
}

function isNamed(error: unknown, name: string): boolean {
  return error instanceof Error && error.name === name;
}

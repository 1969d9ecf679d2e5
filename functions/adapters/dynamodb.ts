import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient, paginateQuery, QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';

/** Where to reach DynamoDB. Both fields are optional: in Lambda, pass nothing. */
export interface DynamoClientOptions {
  /** DynamoDB Local's URL (e.g. `http://127.0.0.1:8000`); omitted in AWS, where the region decides. */
  endpoint?: string;
  /** @default process.env.AWS_REGION ?? 'us-east-1' */
  region?: string;
}

/** The low-level client (tables, streams) and the document client (items as plain JS values). */
export interface DynamoClients {
  client: DynamoDBClient;
  doc: DynamoDBDocumentClient;
}

/**
 * Creates the DynamoDB clients used by every handler and by the local stack. With an `endpoint` and
 * no `AWS_ACCESS_KEY_ID` in the environment, fixed fake credentials are used: DynamoDB Local accepts
 * any, and the default provider chain would otherwise end up probing EC2 instance metadata, which
 * takes seconds to fail on a developer machine. Creating clients does no I/O and cannot fail; errors
 * surface on the first request. The SDK retries throttling and transient errors (3 attempts in all);
 * conditional-check failures are never retried by it, they are the caller's to handle.
 */
export function createDynamoClients(options: DynamoClientOptions = {}): DynamoClients {
  const region = options.region ?? process.env.AWS_REGION ?? 'us-east-1';
  const useFakeCredentials = options.endpoint !== undefined && !process.env.AWS_ACCESS_KEY_ID;
  const client = new DynamoDBClient({
    region,
    maxAttempts: 3,
    ...(options.endpoint !== undefined ? { endpoint: options.endpoint } : {}),
    ...(useFakeCredentials ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
  });
  const doc = DynamoDBDocumentClient.from(client, {
    // Optional fields of events and views are often `undefined`; dropping them beats failing the write.
    marshallOptions: { removeUndefinedValues: true },
  });
  return { client, doc };
}

/**
 * Every item a query matches, following `LastEvaluatedKey` page after page (in the query's order).
 * For partitions known to stay small enough to hold in memory.
 * @throws any SDK error of a page (nothing is returned then).
 */
export async function queryAll(doc: DynamoDBDocumentClient, input: Omit<QueryCommandInput, 'ExclusiveStartKey'>): Promise<Array<Record<string, any>>> {
  const items: Array<Record<string, any>> = [];
  for await (const page of paginateQuery({ client: doc }, input)) items.push(...(page.Items ?? []));
  return items;
}

/**
 * One page of a partition for an API list, newest first (descending sort key): at most `limit`
 * items after the sort key `after`, only those whose `status` attribute is `status` when given,
 * and the sort key to continue after (null on the last page). DynamoDB applies `Limit` before a
 * filter, so this reads on until the page is full, one item beyond it to know whether another
 * page follows. The partition is fixed, so a cursor can only point into it.
 * @throws any SDK error of a page.
 */
export async function queryPage(
  doc: DynamoDBDocumentClient,
  query: { TableName: string; pk: string; limit: number; after?: string; status?: string },
): Promise<{ items: Array<Record<string, any>>; after: string | null }> {
  const { TableName, pk, limit, after, status } = query;
  const found: Array<Record<string, any>> = [];
  let start: Record<string, unknown> | undefined = after ? { pk, sk: after } : undefined;
  do {
    const page = await doc.send(
      new QueryCommand({
        TableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': pk, ...(status ? { ':status': status } : {}) },
        ...(status ? { FilterExpression: '#status = :status', ExpressionAttributeNames: { '#status': 'status' } } : {}),
        ScanIndexForward: false,
        Limit: limit + 1 - found.length,
        ExclusiveStartKey: start,
      }),
    );
    found.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start && found.length <= limit);
  const items = found.slice(0, limit);
  return { items, after: found.length > limit ? (items.at(-1)!.sk as string) : null };
}

/** One put or delete of a BatchWriteItem (the document client's shape). */
export type WriteRequest = { PutRequest: { Item: Record<string, unknown> } } | { DeleteRequest: { Key: Record<string, unknown> } };

/**
 * Writes `requests` to one table, 25 per BatchWriteItem (its limit), `concurrency` of those at a time,
 * resubmitting what DynamoDB leaves unprocessed (throttling) with exponential backoff. Not atomic,
 * not conditional: for bulk work (rebuilds, seeding benchmarks), where every write is idempotent.
 * @throws Error after 20 resubmissions still left items unprocessed; any SDK error.
 */
export async function batchWrite(
  doc: DynamoDBDocumentClient,
  tableName: string,
  requests: readonly WriteRequest[],
  options: { concurrency?: number } = {},
): Promise<void> {
  const chunks: WriteRequest[][] = [];
  for (let i = 0; i < requests.length; i += 25) chunks.push(requests.slice(i, i + 25));
  const writeChunk = async (chunk: WriteRequest[]) => {
    let pending = chunk;
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(50 * 2 ** attempt, 5_000)));
      if (attempt > 20) throw new Error(`Could not write ${pending.length} items to ${tableName}: DynamoDB kept leaving them unprocessed`);
      const { UnprocessedItems } = await doc.send(new BatchWriteCommand({ RequestItems: { [tableName]: pending } }));
      pending = (UnprocessedItems?.[tableName] ?? []) as WriteRequest[];
    }
  };
  await Promise.all(
    Array.from({ length: Math.min(options.concurrency ?? 1, chunks.length) }, async () => {
      for (let chunk = chunks.shift(); chunk; chunk = chunks.shift()) await writeChunk(chunk);
    }),
  );
}

import { randomBytes } from 'node:crypto';
import { paginateScan } from '@aws-sdk/lib-dynamodb';
import { createDynamoClients } from '../../functions/adapters/dynamodb';
import { deleteTables } from '../../infra/local/create-tables';
import { apiClient, ROOMY_RATE_LIMITS } from '../../infra/local/stack-process';
import { startLocalStack, type LocalStack, type LocalStackOptions } from '../../infra/local/stack';
import { testDynamoEndpoint } from './dynamodb';
import { openApiContract } from './openapi-contract';

export type Api = ReturnType<typeof apiClient>;

/** What a test may set; where the stack runs (its port, data, DynamoDB and tables) is the helper's. */
export type TestStackOptions = Omit<LocalStackOptions, 'port' | 'dataDir' | 'dynamoEndpoint' | 'tablePrefix'>;
export type TestStack = LocalStack & {
  drop(options?: { graceSeconds?: number }): Promise<void>;
  /** What the stack answered that the OpenAPI document does not say, so far (see `drop`). */
  contractViolations: string[];
};

/**
 * The local stack in process, on the run's DynamoDB Local, with its own tables; `drop()` stops it and
 * deletes them. Every answer it gives, to any client (fetch, the SDK, `sx`, the console in Chromium),
 * is checked against the OpenAPI document: `drop()` fails if one was not as documented.
 */
export async function startTestStack(options: TestStackOptions = {}): Promise<TestStack> {
  const contract = openApiContract();
  const contractViolations: string[] = [];
  const stack = await startLocalStack({
    observe: (exchange) => {
      try {
        contractViolations.push(...contract.check(exchange));
      } catch (error) {
        contractViolations.push(`${exchange.method} ${exchange.path}: the check failed: ${String(error)}`);
      }
    },
    port: 0,
    dataDir: null,
    dynamoEndpoint: testDynamoEndpoint(),
    tablePrefix: `sx-test-${randomBytes(6).toString('hex')}`,
    pollMs: 50,
    ...options,
    // The request limits get room here; their own tests (test/e2e/rate-limits.test.ts) set them.
    rateLimits: { ...ROOMY_RATE_LIMITS, ...options.rateLimits },
  });
  return {
    ...stack,
    contractViolations,
    async drop({ graceSeconds = 1 } = {}) {
      await stack.stop({ graceSeconds });
      const { client } = createDynamoClients({ endpoint: stack.dynamoEndpoint });
      try {
        await deleteTables(client, stack.deps.tables);
      } finally {
        client.destroy();
      }
      if (contractViolations.length) {
        throw new Error(`${contractViolations.length} answer(s) not as the OpenAPI document says:\n${[...new Set(contractViolations)].slice(0, 20).join('\n')}`);
      }
    },
  };
}

/** Signs up and returns the account, its key and a client using it. */
export async function signUp(url: string, email: string) {
  const res = await apiClient(url).post('/v1/signup', { email });
  if (res.status !== 201) throw new Error(`signup failed: ${res.status} ${JSON.stringify(res.body)}`);
  return { accountId: res.body.account.id as string, apiKey: res.body.api_key as string, api: apiClient(url, res.body.api_key) };
}

/** Every item of the events table (small in tests), to prove a rejected request wrote nothing. */
export async function eventItems(stack: LocalStack): Promise<number> {
  let count = 0;
  for await (const page of paginateScan({ client: stack.deps.doc }, { TableName: stack.deps.tables.events, Select: 'COUNT', ConsistentRead: true })) count += page.Count ?? 0;
  return count;
}

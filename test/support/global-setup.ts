import type { TestProject } from 'vitest/node';
import { startDynamoDbLocal } from '../../infra/local/dynamodb-local';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The URL of the DynamoDB Local started for this test run. */
    dynamoEndpoint: string;
  }
}

/**
 * Starts one in-memory DynamoDB Local for the whole run and hands its endpoint to test files
 * (`inject('dynamoEndpoint')`, with `SX_TEST_DYNAMODB_ENDPOINT` as a fallback for code that cannot
 * call inject). Test files isolate themselves with their own randomly named tables, so they can run
 * in parallel against it. Stopped in teardown; if Java is missing the run fails here with one line.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dynamo = await startDynamoDbLocal();
  project.provide('dynamoEndpoint', dynamo.endpoint);
  process.env.SX_TEST_DYNAMODB_ENDPOINT = dynamo.endpoint;
  return async () => {
    await dynamo.stop();
  };
}

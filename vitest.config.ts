import { defineConfig } from 'vitest/config';

// See infra/local/quiet-sdk.ts: the AWS SDK's Node 22 notice is noise on the Node 20 we support locally.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // One in-memory DynamoDB Local for the whole run; test files get its endpoint via inject().
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 30_000,
    // Creating tables and starting the JVM happen in hooks.
    hookTimeout: 60_000,
  },
});

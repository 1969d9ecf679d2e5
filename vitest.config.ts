import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

// See infra/local/quiet-sdk.ts: the AWS SDK's Node 22 notice is noise on the Node 20 we support locally.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // One in-memory DynamoDB Local for the whole run; test files get its endpoint via inject().
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 30_000,
    // At least two files at once: the end-to-end files mostly wait on jobs, restarts and retries, so on a
    // 2-core machine (vitest's default there is one worker) two at a time halve the suite (536 s → 297 s).
    maxWorkers: Math.max(2, availableParallelism() - 1),
    // Creating tables and starting the JVM happen in hooks.
    hookTimeout: 60_000,
  },
});

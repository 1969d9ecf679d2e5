/**
 * `npm start`: runs the whole service on this machine. Configuration from the environment, every
 * variable with its default in `functions/env.ts` (`LocalEnv`): PORT (3000), SX_DATA_DIR (.data),
 * SX_GPUS (8), SX_ADMIN_KEY (generated), SX_DYNAMODB_ENDPOINT (use this DynamoDB instead of starting
 * DynamoDB Local under the data dir) with SX_TABLE_PREFIX (sx-local), and the service's settings as
 * Lambda reads them: SX_STOP_GRACE_SECONDS (30), SX_PRICE_A100 (fen per A100 GPU-hour; default
 * derived from AWS's price) or SX_CNY_PER_USD (7.10), the sweeps', and the request limits
 * (SX_REQUESTS_PER_KEY_PER_MINUTE 600, SX_SIGNUPS_PER_SOURCE_PER_HOUR 10, SX_FAILED_AUTH_PER_SOURCE_PER_5_MINUTES 30).
 */
import './quiet-sdk';
import { readLocalEnv } from '../../functions/env';
import { startLocalStack } from './stack';

async function main() {
  const env = readLocalEnv();
  const stack = await startLocalStack({
    port: env.PORT,
    gpus: env.SX_GPUS,
    dataDir: env.SX_DATA_DIR,
    settings: env,
    adminKey: env.SX_ADMIN_KEY,
    dynamoEndpoint: env.SX_DYNAMODB_ENDPOINT,
    tablePrefix: env.SX_TABLE_PREFIX,
  });
  const gpus = env.SX_GPUS;
  const prices = stack.deps.policy.prices;
  const stopGraceSeconds = stack.deps.policy.stopGraceSeconds;
  console.log(`suanxiang-cloud local stack ready at ${stack.url}`);
  console.log(`  data: ${stack.dataDir}   GPUs: ${gpus}   DynamoDB Local: ${stack.dynamoEndpoint}`);
  console.log(`  A100 price: ${prices.a100} fen per GPU-hour (¥${(prices.a100 / 100).toFixed(2)})`);
  console.log(env.SX_ADMIN_KEY ? '  admin key: from SX_ADMIN_KEY' : `  admin key (set SX_ADMIN_KEY to choose one): ${stack.adminKey}`);
  console.log(`Try it:
  curl -s -X POST ${stack.url}/v1/signup -H 'content-type: application/json' -d '{"email":"you@example.com"}'
  curl -s -X POST ${stack.url}/v1/jobs -H "authorization: Bearer $SX_API_KEY" -H 'content-type: application/json' \\
       -d '{"image":"local/echo:1","command":["sh","-c","echo hello from an A100"],"gpu_count":1}'`);

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: stopping (running jobs get SIGTERM, then SIGKILL after ${stopGraceSeconds} s)…`);
    stack.stop().then(
      () => {
        console.log('stopped');
        process.exit(0);
      },
      (error) => {
        console.error(`error while stopping: ${error instanceof Error ? error.message : String(error)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((error: unknown) => {
  // One readable line, not a stack trace: the usual causes are a missing Java or a taken port.
  console.error(`suanxiang-cloud: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});

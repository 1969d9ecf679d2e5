/**
 * `npm start`: runs the whole service on this machine. Configuration from the environment:
 * PORT (3000), SX_DATA_DIR (.data), SX_GPUS (8), SX_STOP_GRACE_SECONDS (30), SX_ADMIN_KEY (generated),
 * SX_PRICE_A100 (fen per A100 GPU-hour; default derived from AWS's price) or SX_CNY_PER_USD (7.10),
 * SX_DYNAMODB_ENDPOINT (use this DynamoDB instead of starting DynamoDB Local under the data dir) with
 * SX_TABLE_PREFIX (sx-local), and the request limits SX_REQUESTS_PER_KEY_PER_MINUTE (600),
 * SX_SIGNUPS_PER_SOURCE_PER_HOUR (10), SX_FAILED_AUTH_PER_SOURCE_PER_5_MINUTES (30).
 */
import './quiet-sdk';
import { parseCnyPerUsd, priceBookFrom } from '../../domain/pricing';
import { rateLimitsFrom } from '../../functions/http/rate-limits';
import { startLocalStack } from './stack';

function intFromEnv(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name} must be a whole number from ${min} to ${max}, not ${JSON.stringify(raw)}`);
  }
  return value;
}

async function main() {
  const port = intFromEnv('PORT', 3000, 0, 65535);
  const gpus = intFromEnv('SX_GPUS', 8, 1, 1024);
  const stopGraceSeconds = intFromEnv('SX_STOP_GRACE_SECONDS', 30, 0, 600);
  const a100Price = intFromEnv('SX_PRICE_A100', -1, 0, 10_000_000);
  const prices = priceBookFrom({
    ...(a100Price >= 0 ? { a100FenPerGpuHour: a100Price } : {}),
    ...(process.env.SX_CNY_PER_USD ? { cnyPerUsdE4: parseCnyPerUsd(process.env.SX_CNY_PER_USD) } : {}),
  });
  const rateLimits = rateLimitsFrom({
    perKeyPerMinute: intFromEnv('SX_REQUESTS_PER_KEY_PER_MINUTE', 600, 1, 1_000_000),
    signupsPerHour: intFromEnv('SX_SIGNUPS_PER_SOURCE_PER_HOUR', 10, 1, 1_000_000),
    failedAuthPer5Minutes: intFromEnv('SX_FAILED_AUTH_PER_SOURCE_PER_5_MINUTES', 30, 1, 1_000_000),
  });
  const stack = await startLocalStack({
    rateLimits,
    port,
    gpus,
    dataDir: process.env.SX_DATA_DIR || '.data',
    policy: { stopGraceSeconds, prices },
    adminKey: process.env.SX_ADMIN_KEY || undefined,
    ...(process.env.SX_DYNAMODB_ENDPOINT ? { dynamoEndpoint: process.env.SX_DYNAMODB_ENDPOINT } : {}),
    ...(process.env.SX_TABLE_PREFIX ? { tablePrefix: process.env.SX_TABLE_PREFIX } : {}),
  });
  console.log(`suanxiang-cloud local stack ready at ${stack.url}`);
  console.log(`  data: ${stack.dataDir}   GPUs: ${gpus}   DynamoDB Local: ${stack.dynamoEndpoint}`);
  console.log(`  A100 price: ${prices.a100} fen per GPU-hour (¥${(prices.a100 / 100).toFixed(2)})`);
  console.log(process.env.SX_ADMIN_KEY ? '  admin key: from SX_ADMIN_KEY' : `  admin key (set SX_ADMIN_KEY to choose one): ${stack.adminKey}`);
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

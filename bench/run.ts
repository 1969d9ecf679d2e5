/**
 * `npm run bench`: figures for the local stack on this machine. Each speed is printed beside a
 * baseline measured in the same run, because these machines are shared and noisy: the ratio is
 * the figure to compare across runs. Record results in BENCHMARKS.md.
 */
import '../infra/local/quiet-sdk';
import { readFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { createDynamoClients } from '../functions/adapters/dynamodb';
import { tableNames } from '../infra/tables';
import { apiClient, eventually, startStackProcess } from '../infra/local/stack-process';
import { benchMiddleware } from './middleware';
import { fmt, percentile, throughput } from './stats';
import { benchCompute } from './compute';
import { benchWebhooks } from './webhooks';

const JOBS = 30;
const LOAD = { concurrency: 16, durationMs: 5_000 };

async function main() {
  console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${fmt(totalmem() / 2 ** 30)} GiB, Node ${process.version}`);
  await benchMiddleware();
  const stack = await startStackProcess();
  try {
    const signup = await apiClient(stack.url).post('/v1/signup', { email: 'bench@example.com' });
    const api = apiClient(stack.url, signup.body.api_key);

    // 1. POST /v1/jobs returned → the job's process started (it writes its own start time, in ns).
    const latencies: number[] = [];
    let lastJobId = '';
    for (let i = 0; i < JOBS; i++) {
      const created = await api.post('/v1/jobs', {
        image: 'bench/start:1',
        command: ['sh', '-c', 'date +%s%N > "$SX_OUTPUT_DIR/started"'],
        gpu_count: 1,
        max_runtime_seconds: 60,
      });
      const returnedAt = Date.now();
      if (created.status !== 201) throw new Error(`submit failed: ${JSON.stringify(created.body)}`);
      lastJobId = created.body.id;
      const job = await eventually(async () => {
        const res = await api.get(`/v1/jobs/${lastJobId}`);
        return res.body.status === 'succeeded' && res.body;
      }, 30_000, 'the job to succeed');
      const startedNs = (await readFile(`${fileURLToPath(job.output_uri)}started`, 'utf8')).trim();
      latencies.push(Number(BigInt(startedNs) / 1_000_000n) - returnedAt);
    }
    console.log(
      `submit → process start (${JOBS} jobs, one at a time): p50 ${fmt(percentile(latencies, 50))} ms, p99 ${fmt(percentile(latencies, 99))} ms, max ${fmt(Math.max(...latencies))} ms`,
    );

    // 2. GET /v1/jobs/{id} beside raw GetItem on the same DynamoDB Local, same concurrency and duration.
    const { doc } = createDynamoClients({ endpoint: stack.dynamoEndpoint });
    const { events } = tableNames('sx-local');
    const getItem = () => doc.send(new GetCommand({ TableName: events, Key: { pk: `job#${lastJobId}`, sk: '0000000001' } })).then(() => undefined);
    const getJob = async () => {
      const res = await api.get(`/v1/jobs/${lastJobId}`);
      if (res.status !== 200) throw new Error(`GET failed: ${res.status}`);
    };
    await throughput(getItem, { ...LOAD, durationMs: 1_000 }); // warm-up
    const raw = await throughput(getItem, LOAD);
    const api_ = await throughput(getJob, LOAD);
    console.log(
      `GET /v1/jobs/{id}: ${fmt(api_)} req/s; raw GetItem: ${fmt(raw)} req/s; ratio ${fmt(api_ / raw, 2)} (concurrency ${LOAD.concurrency}, ${LOAD.durationMs / 1000} s each)`,
    );
    doc.destroy();

    // 3. Webhooks.
    await benchWebhooks(stack);
  } finally {
    await stack.stop();
  }
  await benchCompute();
}

main()
  // The SDK and sx figures, on a stack of their own.
  .then(() => import('./sdk-cli').then((sdkCli) => sdkCli.main()))
  .catch((error) => {
    console.error(`bench: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });

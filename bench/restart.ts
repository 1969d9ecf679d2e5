/**
 * `npx tsx bench/restart.ts` (part of `npm run bench`): restart-to-ready of `npm start` on a data
 * directory holding 10,000 finished jobs, beside the restart of the same stack on an empty store,
 * in the same run. "Ready" is the stack's ready line, then the first answered `GET /v1/account`.
 *
 * The jobs are copies of one real job: it runs once through the API, then its event stream and its
 * compute journal are written again under 10,000 new job ids (BatchWriteItem straight into the
 * event table). The projections are NOT waited for (on this machine they take minutes for 50,000
 * events), so the restarts also resume a stream backlog: the post-crash worst case, where the
 * pollers compete with the start for CPU. SX_BENCH_RESTART_JOBS and SX_BENCH_RESTARTS change the
 * job count and the restarts per case (seeding 10,000 jobs takes DynamoDB Local a long while on a
 * loaded machine: 50,000 streamed writes).
 */
import '../infra/local/quiet-sdk';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ulid } from 'ulidx';
import { batchWrite, createDynamoClients } from '../functions/adapters/dynamodb';
import { DynamoDbEventStore, versionKey } from '../functions/adapters/dynamodb-event-store';
import { tableNames } from '../infra/tables';
import { apiClient, eventually, startStackProcess } from '../infra/local/stack-process';
import { fmt, percentile } from './stats';

const JOBS = Number(process.env.SX_BENCH_RESTART_JOBS ?? 10_000);
const RESTARTS = Number(process.env.SX_BENCH_RESTARTS ?? 3);
const ADMIN_KEY = 'sx_admin_bench_restart_0123456789abcdef';

/** Starts the stack on `dataDir` RESTARTS times (stopping it cleanly in between); the time of each to its first answered request. */
async function restarts(dataDir: string, key: string): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < RESTARTS; i++) {
    const started = performance.now();
    const stack = await startStackProcess({ SX_ADMIN_KEY: ADMIN_KEY }, { dataDir });
    const res = await apiClient(stack.url, key).get('/v1/account');
    times.push(performance.now() - started);
    if (res.status !== 200) throw new Error(`GET /v1/account after the restart: ${res.status}`);
    if ((await stack.stop()) !== 0) throw new Error('the stack did not stop cleanly');
  }
  return times;
}

/** Writes `items` to the events table, 25 a request, a few requests at a time, retrying what is unprocessed. */
async function writeAll(doc: DynamoDBDocumentClient, table: string, items: Array<Record<string, unknown>>): Promise<void> {
  await batchWrite(doc, table, items.map((Item) => ({ PutRequest: { Item } })), { concurrency: 4 });
}

async function main() {
  console.log(`restart-to-ready: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${fmt(totalmem() / 2 ** 30)} GiB, Node ${process.version}`);
  const dataDir = await mkdtemp(join(tmpdir(), 'sx-bench-restart-'));
  try {
    // An account and one real job.
    let stack = await startStackProcess({ SX_ADMIN_KEY: ADMIN_KEY }, { dataDir });
    const signup = await apiClient(stack.url).post('/v1/signup', { email: 'restart-bench@example.com' });
    const key: string = signup.body.api_key;
    const api = apiClient(stack.url, key);
    const job = (await api.post('/v1/jobs', { image: 'bench/restart:1', command: ['true'], gpu_count: 1, max_runtime_seconds: 60 })).body;
    await eventually(async () => (await api.get(`/v1/jobs/${job.id}`)).body.status === 'succeeded', 60_000, 'the model job');
    await eventually(async () => (await api.get('/v1/jobs?limit=1')).body.data?.[0]?.status === 'succeeded', 30_000, 'the job list');
    if ((await stack.stop()) !== 0) throw new Error('the stack did not stop cleanly');

    // Baseline: restarts with (next to) nothing in the store.
    const empty = await restarts(dataDir, key);

    // 10,000 copies of the job: its stream under new ids, and its compute journal.
    stack = await startStackProcess({ SX_ADMIN_KEY: ADMIN_KEY }, { dataDir });
    const { doc } = createDynamoClients({ endpoint: stack.dynamoEndpoint });
    const table = tableNames('sx-local').events;
    const { events } = await new DynamoDbEventStore({ doc, tableName: table }).readStream(`job#${job.id}`);
    const journal = await readFile(join(dataDir, 'compute', 'jobs', job.id, 'batch-job.json'), 'utf8');
    const seeding = performance.now();
    const items: Array<Record<string, unknown>> = [];
    for (let i = 0; i < JOBS; i++) {
      const id = `job_${ulid().toLowerCase()}`;
      const swap = <T>(value: T): T => JSON.parse(JSON.stringify(value).replaceAll(job.id, id));
      for (const e of events) items.push({ pk: `job#${id}`, sk: versionKey(e.version), version: e.version, type: e.type, schemaVersion: e.schemaVersion, data: swap(e.data), metadata: e.metadata, at: e.at });
      await cp(join(dataDir, 'compute', 'jobs', job.id), join(dataDir, 'compute', 'jobs', id), { recursive: true });
      await writeFile(join(dataDir, 'compute', 'jobs', id, 'batch-job.json'), swap(journal));
    }
    await writeAll(doc, table, items);
    console.log(`  seeded ${fmt(JOBS)} jobs (${fmt(items.length)} events, ${fmt(JOBS)} compute journals) in ${fmt((performance.now() - seeding) / 1000)} s`);
    doc.destroy();
    if ((await stack.stop()) !== 0) throw new Error('the stack did not stop cleanly');

    const full = await restarts(dataDir, key);
    const [base, loaded] = [percentile(empty, 50), percentile(full, 50)];
    console.log(`  restart → first answered request, median of ${RESTARTS}: empty store ${fmt(base)} ms (${empty.map((t) => fmt(t)).join(', ')})`);
    console.log(`  restart → first answered request, median of ${RESTARTS}: ${fmt(JOBS)} jobs ${fmt(loaded)} ms (${full.map((t) => fmt(t)).join(', ')}); ratio ${fmt(loaded / base, 2)}`);
  } finally {
    await rm(dataDir, { recursive: true, force: true, maxRetries: 3 }).catch(() => undefined);
  }
}

main().catch((error) => {
  console.error(`bench: ${error instanceof Error ? `${error.stack}\n${String((error as { cause?: unknown }).cause)}` : String(error)}`);
  process.exit(1);
});

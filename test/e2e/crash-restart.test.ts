import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoClients } from '../../functions/adapters/dynamodb';
import { readModelSnapshot } from '../../functions/rebuild';
import { deleteTables } from '../../infra/local/create-tables';
import { apiClient, eventually, startStackProcess, type StackProcess } from '../../infra/local/stack-process';
import { tableNames } from '../../infra/tables';
import { testDynamoEndpoint } from '../support/dynamodb';
import {
  attemptStarts,
  checkAttemptStarts,
  checkDelivered,
  checkJobs,
  checkLedger,
  expectedWebhookIds,
  readAllStreams,
  type AccountView,
  type Streams,
} from '../support/durability';
import { jobProcesses } from '../support/processes';
import { runRebuild } from '../support/rebuild-command';

/**
 * The crash test: `npm start`'s entry is SIGKILLed at a random moment while jobs, voucher
 * redemptions and webhook deliveries are in flight, restarted on the same data directory, left to
 * settle, and the invariants are checked (test/support/durability.ts), round after round.
 * Rerun a failure with the printed seed: SX_CRASH_SEED=<seed> (SX_CRASH_ROUNDS to change the count).
 *
 * The stack runs on the suite's DynamoDB Local (SX_DYNAMODB_ENDPOINT): the database is not what
 * crashes here, and a JVM start per round would cost more than the whole test may take. The stack's
 * own DynamoDB Local after a crash is covered by test/e2e/shutdown.test.ts.
 */
const ROUNDS = Number(process.env.SX_CRASH_ROUNDS ?? 20);
const SEED = Number(process.env.SX_CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31));

/** mulberry32: a small seeded PRNG, so a failing round can be replayed. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, between: (min: number, max: number) => min + next() * (max - min), int: (min: number, max: number) => Math.floor(min + next() * (max - min + 1)) };
}

/** A loopback receiver that answers 200 after a short random delay and keeps every webhook-id it got. */
class Receiver {
  readonly ids = new Set<string>();
  port = 0;
  private readonly server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      setTimeout(() => {
        this.ids.add(String(req.headers['webhook-id']));
        res.writeHead(200).end('ok');
      }, Math.random() * 150);
    });
  });
  async start() {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }
  close() {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(resolve));
  }
}

const ADMIN_KEY = `sx_admin_${randomBytes(16).toString('hex')}`;
const prefix = `sx-crash-${randomBytes(4).toString('hex')}`;
const tables = tableNames(prefix);
const receiver = new Receiver();
let dataDir: string;
let stack: StackProcess | undefined;

const start = async () =>
  (stack = await startStackProcess(
    { SX_DYNAMODB_ENDPOINT: testDynamoEndpoint(), SX_TABLE_PREFIX: prefix, SX_ADMIN_KEY: ADMIN_KEY, SX_GPUS: '4', SX_STOP_GRACE_SECONDS: '1' },
    { dataDir },
  ));

beforeAll(async () => {
  await receiver.start();
  dataDir = await mkdtemp(join(tmpdir(), 'sx-crash-'));
}, 30_000);

afterAll(async () => {
  if (stack) await stack.kill('SIGKILL');
  await receiver.close();
  const { client } = createDynamoClients({ endpoint: testDynamoEndpoint() });
  await deleteTables(client, tables).finally(() => client.destroy());
  await rm(dataDir, { recursive: true, force: true });
}, 60_000);

describe(`crash and restart (seed ${SEED}, ${ROUNDS} rounds)`, () => {
  it('loses no accepted job, charge, redemption or delivery, and does nothing twice', { timeout: 900_000 }, async () => {
    console.log(`crash test seed ${SEED} (rerun: SX_CRASH_SEED=${SEED} npx vitest run test/e2e/crash-restart.test.ts)`);
    const random = prng(SEED);
    const { doc } = createDynamoClients({ endpoint: testDynamoEndpoint() });
    const streams = () => readAllStreams(doc, tables.events);

    // Two customers, each with an endpoint on the receiver for every event.
    await start();
    const accounts: Array<{ id: string; key: string; endpointSince: string }> = [];
    for (const n of [1, 2]) {
      const signup = await apiClient(stack!.url).post('/v1/signup', { email: `crash-${n}-${randomBytes(3).toString('hex')}@example.com` });
      expect(signup.status).toBe(201);
      const endpoint = await apiClient(stack!.url, signup.body.api_key).post('/v1/webhook-endpoints', { url: `http://127.0.0.1:${receiver.port}/hook/${n}` });
      expect(endpoint.status).toBe(201);
      accounts.push({ id: signup.body.account.id, key: signup.body.api_key, endpointSince: new Date().toISOString() });
    }
    /** Jobs answered 201, with the key of their account. */
    const acceptedJobs = new Map<string, string>();
    const grantedCredits = new Set<string>();

    const views = async (): Promise<AccountView[]> =>
      Promise.all(accounts.map(async (a) => (await apiClient(stack!.url, a.key).get('/v1/account')).body as AccountView));
    const violations = (all: Streams, options: { settled: boolean }) => [
      ...checkLedger(all),
      ...checkJobs(all, options),
      ...checkAttemptStarts(attemptStarts(dataDir)),
      ...[...acceptedJobs.keys()].filter((id) => !all.has(`job#${id}`)).map((id) => `accepted ${id} is not in the store`),
      ...[...grantedCredits].filter((id) => ![...all.values()].flat().some((e) => e.type === 'CreditGranted' && (e.data as { creditId: string }).creditId === id)).map((id) => `redeemed credit ${id} is not in the store`),
    ];

    for (let round = 1; round <= ROUNDS; round++) {
      const where = `round ${round} (seed ${SEED})`;
      const roundStarted = Date.now();

      // Work in flight: jobs of random length, a single-use voucher two customers race for, and the
      // webhooks all of it sends. Nothing is awaited: the crash comes in the middle of it.
      const admin = apiClient(stack!.url, ADMIN_KEY);
      const inFlight: Array<Promise<unknown>> = [];
      // Requests cut by the crash fail; what was answered counts.
      const track = (request: Promise<unknown>) => inFlight.push(request.catch(() => undefined));
      for (const account of accounts) {
        const api = apiClient(stack!.url, account.key);
        for (let j = random.int(1, 3); j > 0; j--) {
          const seconds = random.between(0.1, 1.5).toFixed(2);
          const command = ['sh', '-c', `echo "$AWS_BATCH_JOB_ATTEMPT" >> "$SX_CHECKPOINT_DIR/starts"; sleep ${seconds}`];
          track(api.post('/v1/jobs', { image: 'local/crash:1', command, gpu_count: random.int(1, 2), max_runtime_seconds: 60 }).then((r) => r.status === 201 && acceptedJobs.set(r.body.id, account.key)));
        }
      }
      track(
        admin.post('/v1/admin/vouchers', { amount: { amount: random.int(500, 5000), currency: 'CNY' }, max_redemptions: 1 }).then(async (voucher) => {
          if (voucher.status !== 201) return;
          await Promise.all(
            accounts.map(async (a) => {
              const r = await apiClient(stack!.url, a.key).post('/v1/vouchers/redeem', { code: voucher.body.code });
              if (r.status === 200) grantedCredits.add(r.body.credit.id);
            }),
          );
        }),
      );
      await new Promise((r) => setTimeout(r, random.between(200, 2_500)));
      const killed = await stack!.kill('SIGKILL');
      expect(killed.signal).toBe('SIGKILL');
      stack = undefined;
      await Promise.all(inFlight);

      // Restart. What the crash left must be consistent already, before anything settles.
      await start();
      expect(violations(await streams(), { settled: false }), `${where}: right after the restart`).toEqual([]);
      // Let it settle: every job ends (a lost attempt is retried), every balance adds up.
      const settled = await eventually(
        async () => {
          const all = await streams();
          return checkJobs(all, { settled: true }).length === 0 && all;
        },
        // Usually 4–13 s: a compute event lost in the crash is found by the reconciler's sweep that runs
        // once the restarted stack's stream consumers have caught up. Below the reconciler's 60 s
        // period on purpose: a job that waits for the regular tick is a bug this test must catch.
        45_000,
        `${where}: every job ended and settled`,
      ).catch(async (error) => {
        throw new Error(`${error.message}\n${checkJobs(await streams(), { settled: true }).join('\n')}\n${stack?.output()}`);
      });
      expect(violations(settled, { settled: true }), where).toEqual([]);
      // The read models caught up and agree with the events.
      await eventually(async () => checkLedger(await streams(), await views()).length === 0, 60_000, `${where}: the API's balances`).catch(async (error) => {
        throw new Error(`${error.message}\n${checkLedger(await streams(), await views()).join('\n')}`);
      });
      expect(jobProcesses(dataDir), `${where}: job processes left`).toEqual([]);
      console.log(`${where}: settled ${Math.round((Date.now() - roundStarted) / 1000)} s after it began`);
      for (const [id, key] of acceptedJobs) expect((await apiClient(stack!.url, key).get(`/v1/jobs/${id}`)).status, `${where}: GET ${id}`).toBe(200);
    }

    const deliveriesFrom = Date.now();
    // Every webhook of every event went out at least once (a delivery leased by a crashed run is retried once its lease ends).
    const all = await streams();
    const expected = new Set(accounts.flatMap((a) => [...expectedWebhookIds(all, a.id, a.endpointSince)]));
    expect(expected.size).toBeGreaterThan(ROUNDS * 4);
    await eventually(async () => checkDelivered(expected, receiver.ids).length === 0, 120_000, 'every webhook delivered').catch((error) => {
      throw new Error(`${error.message}\n${checkDelivered(expected, receiver.ids).join('\n')}`);
    });
    console.log(`all webhooks delivered ${Math.round((Date.now() - deliveriesFrom) / 1000)} s after the last round`);
    for (const a of accounts) {
      const jobs = (await apiClient(stack!.url, a.key).get('/v1/jobs?limit=100')).body.data as Array<{ id: string }>;
      expect(jobs.length).toBeGreaterThan(0);
    }
    expect(acceptedJobs.size).toBeGreaterThan(ROUNDS);
    expect(await stack!.stop()).toBe(0);
    stack = undefined;

    // After all the crashes, `npm run rebuild` from the events yields exactly the read models the live
    // projections wrote, and the invariants still hold on what it wrote.
    const live = await readModelSnapshot({ doc, tables });
    const rebuild = await runRebuild(['--endpoint', testDynamoEndpoint(), '--table-prefix', prefix, '--no-progress']);
    expect(rebuild, rebuild.stderr).toMatchObject({ code: 0 });
    expect(rebuild.stdout).toMatch(/^Rebuilt job-views, .*: \d+ events of \d+ streams/m);
    expect(await readModelSnapshot({ doc, tables })).toEqual(live);
    expect(violations(await streams(), { settled: true })).toEqual([]);
    doc.destroy();
  });
});

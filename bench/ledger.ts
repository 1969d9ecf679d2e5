/**
 * `npm run bench` (part 2): the ledger. Prints, each beside a baseline from the same run:
 * 1. ledger decisions per second in process (decide + evolve of a hold and its settlement), beside a
 *    plain fold of the same events (evolve only);
 * 2. account load time at 10 / 10,000 / 100,000 events (snapshot + tail) on DynamoDB Local, beside
 *    one raw GetItem, and beside a full fold without the snapshot at 10,000 events;
 * 3. voucher redemption throughput over HTTP, beside raw conditional PutItem throughput.
 */
import '../infra/local/quiet-sdk';
import { randomBytes } from 'node:crypto';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { evolveAccount, initialAccountState, type AccountState } from '../domain/ledger/account';
import { decideLedger, type LedgerCommand } from '../domain/ledger/decide';
import { decideVoucher } from '../domain/ledger/voucher';
import { defaultPolicy } from '../domain/policy';
import type { AccountEvent } from '../events/account-events';
import { versionKey } from '../functions/adapters/dynamodb-event-store';
import { load } from '../functions/aggregates/aggregate';
import { accounts, vouchers } from '../functions/aggregates/ledger';
import { voucherCodeHash, newVoucherCode } from '../functions/api/create-voucher';
import { loadAccount, refreshAccountSnapshot } from '../functions/views/account-snapshots';
import { startDynamoDbLocal } from '../infra/local/dynamodb-local';
import { startLocalStack } from '../infra/local/stack';
import { apiClient, ROOMY_RATE_LIMITS } from '../infra/local/stack-process';
import { batchWrite } from '../functions/adapters/dynamodb';
import { fmt, percentile, throughput } from './stats';

const at = (n: number) => new Date(Date.UTC(2026, 10, 25) + n * 1000).toISOString();
const jobIdOf = (n: number) => `job_${String(n).padStart(26, '0')}`;
const ACCOUNT = `acct_${'0'.repeat(26)}`;

/** A realistic history: opened, two vouchers, then hold/settle pairs on 1–8 GPUs. */
function history(events: number): AccountEvent[] {
  const out: AccountEvent[] = [
    { type: 'AccountOpened', data: { accountId: ACCOUNT, email: 'bench@example.com', openedAt: at(0), trial: { gpuType: 'a100', gpuSeconds: 300 } } },
    { type: 'CreditGranted', data: { creditId: 'cred_a', source: 'voucher', voucherId: 'vch_a', amount: 1e9, currency: 'CNY', expiresAt: null, recurrence: null, period: '2026-11', grantedAt: at(0) } },
  ];
  let state = out.reduce(evolveAccount, initialAccountState());
  for (let i = 0; out.length < events; i++) {
    const jobId = jobIdOf(i);
    const decided = decideLedger({ type: 'PlaceHold', data: { jobId, gpuType: 'a100', gpuCount: 1 + (i % 8), maxRuntimeSeconds: 600 }, metadata: { now: at(i), policy: defaultPolicy } }, state);
    state = decided.reduce(evolveAccount, state);
    const settled = decideLedger({ type: 'SettleHold', data: { jobId, runSeconds: 37 + (i % 300) }, metadata: { now: at(i + 1), policy: defaultPolicy } }, state);
    state = settled.reduce(evolveAccount, state);
    out.push(...decided, ...settled);
  }
  return out.slice(0, events);
}

function decisionsPerSecond(): { decisions: number; folds: number } {
  const base = history(2);
  let state: AccountState = base.reduce(evolveAccount, initialAccountState());
  const N = 100_000;
  const folded: AccountEvent[] = [];
  let started = performance.now();
  for (let i = 0; i < N; i++) {
    const jobId = jobIdOf(i);
    const place: LedgerCommand = { type: 'PlaceHold', data: { jobId, gpuType: 'a100', gpuCount: 1 + (i % 8), maxRuntimeSeconds: 600 }, metadata: { now: at(i), policy: defaultPolicy } };
    const placed = decideLedger(place, state);
    state = placed.reduce(evolveAccount, state);
    const settled = decideLedger({ type: 'SettleHold', data: { jobId, runSeconds: 100 }, metadata: { now: at(i), policy: defaultPolicy } }, state);
    state = settled.reduce(evolveAccount, state);
    if (i < 20_000) folded.push(...placed, ...settled);
  }
  const decisions = (2 * N) / ((performance.now() - started) / 1000);
  started = performance.now();
  let rounds = 0;
  while (performance.now() - started < 2_000) {
    folded.reduce(evolveAccount, base.reduce(evolveAccount, initialAccountState()));
    rounds++;
  }
  const folds = (rounds * folded.length) / ((performance.now() - started) / 1000);
  return { decisions, folds };
}

async function main() {
  const { decisions, folds } = decisionsPerSecond();
  console.log(`ledger decisions in process (decide + evolve): ${fmt(decisions)}/s; fold only (evolve): ${fmt(folds)} events/s; ratio ${fmt(decisions / folds, 2)}`);

  // The stream pollers stay idle (the seeded history must not be projected while it is measured), so
  // the stack's stop cannot wait for them: this run owns DynamoDB Local and stops it itself.
  const dynamo = await startDynamoDbLocal();
  const stack = await startLocalStack({ rateLimits: ROOMY_RATE_LIMITS, port: 0, dataDir: null, dynamoEndpoint: dynamo.endpoint, tablePrefix: `sx-bench-${randomBytes(3).toString('hex')}`, pollMs: 1_000_000 });
  try {
    const { doc, tables, store } = stack.deps;
    const seed = async (accountId: string, events: AccountEvent[]) => {
      const items = events.map((e, i) => ({
        pk: accounts.streamId(accountId),
        sk: versionKey(i + 1),
        version: i + 1,
        type: e.type,
        schemaVersion: 1,
        data: { ...e.data, ...(e.type === 'AccountOpened' ? { accountId } : {}) },
        metadata: {},
        at: at(i),
      }));
      await batchWrite(doc, tables.events, items.map((Item) => ({ PutRequest: { Item } })), { concurrency: 8 });
    };
    const timeLoads = async (fn: () => Promise<unknown>, runs = 30) => {
      const times: number[] = [];
      for (let i = 0; i < runs; i++) {
        const t = performance.now();
        await fn();
        times.push(performance.now() - t);
      }
      return percentile(times, 50);
    };
    const raw = await timeLoads(() => doc.send(new GetCommand({ TableName: tables.views, Key: { pk: 'none', sk: 'none' } })), 100);
    const sizes = [10, 10_000, 100_000];
    const fullFold: Record<number, number> = {};
    for (const size of sizes) {
      const accountId = `acct_${String(size).padStart(26, '0')}`;
      const t = performance.now();
      await seed(accountId, history(size));
      const seeded = performance.now() - t;
      if (size <= 10_000) fullFold[size] = await timeLoads(() => load(store, accounts, accountId), size > 10 ? 3 : 30);
      await refreshAccountSnapshot(stack.deps, accountId);
      // 37 events after the snapshot, as a projection that lags a little would leave.
      const tail = history(size + 37).slice(size);
      const { version } = await store.readStream(accounts.streamId(accountId), size);
      await store.append([{ streamId: accounts.streamId(accountId), expectedVersion: version, events: tail.slice(0, 37) }], { at: at(size) });
      const median = await timeLoads(() => loadAccount(stack.deps, accountId));
      console.log(
        `account load at ${fmt(size)} events (+37 after the snapshot): p50 ${fmt(median, 1)} ms; raw GetItem p50 ${fmt(raw, 1)} ms; ratio ${fmt(median / raw, 1)}` +
          (fullFold[size] !== undefined ? `; full fold without snapshot ${fmt(fullFold[size]!, 1)} ms` : '') +
          ` (seeded in ${fmt(seeded / 1000, 1)} s)`,
      );
    }

    // Redemptions over HTTP: 48 customers (so concurrent redemptions rarely share an account), each redeeming fresh single-use codes, beside raw conditional puts.
    const codes: string[] = [];
    for (let i = 0; i < 2_000; i++) {
      const code = newVoucherCode();
      const events = decideVoucher({ type: 'CreateVoucher', data: { voucherId: `vch_${i}`, amount: 100, maxRedemptions: 1, expiresAt: null, recurrence: null }, metadata: { now: at(0) } }, vouchers.initialState());
      codes.push(code);
      await store.append([{ streamId: vouchers.streamId(voucherCodeHash(code)), expectedVersion: 0, events }], { at: at(0) });
    }
    const customers = await Promise.all(
      Array.from({ length: 48 }, async (_, i) => {
        const res = await apiClient(stack.url).post('/v1/signup', { email: `bench-${i}@example.com` });
        return apiClient(stack.url, res.body.api_key);
      }),
    );
    let nextCode = 0;
    let worker = 0;
    const redeem = async () => {
      const api = customers[worker++ % customers.length]!;
      const code = codes[nextCode++];
      if (code === undefined) throw new Error('ran out of voucher codes: create more');
      const res = await api.post('/v1/vouchers/redeem', { code });
      if (res.status !== 200) throw new Error(`redeem failed: ${res.status} ${JSON.stringify(res.body)}`);
    };
    let key = 0;
    const put = () =>
      doc
        .send(new PutCommand({ TableName: tables.events, Item: { pk: `bench#${key++}`, sk: versionKey(1), v: 1 }, ConditionExpression: 'attribute_not_exists(pk)' }))
        .then(() => undefined);
    const LOAD = { concurrency: 16, durationMs: 5_000 };
    await throughput(put, { ...LOAD, durationMs: 1_000 });
    const rawPuts = await throughput(put, LOAD);
    const redemptions = await throughput(redeem, LOAD);
    console.log(
      `voucher redemptions over HTTP: ${fmt(redemptions)}/s; raw conditional PutItem: ${fmt(rawPuts)}/s; ratio ${fmt(redemptions / rawPuts, 2)} (concurrency ${LOAD.concurrency}, ${LOAD.durationMs / 1000} s each)`,
    );
  } finally {
    await Promise.race([stack.stop({ graceSeconds: 1 }), new Promise((r) => setTimeout(r, 3_000))]);
    await dynamo.stop();
  }
}

main().then(() => process.exit(0), (error) => {
  console.error(`bench (ledger): ${error instanceof Error ? error.stack : String(error)}`);
  process.exit(1);
});

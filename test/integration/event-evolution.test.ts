import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decideLedger } from '../../domain/ledger/decide';
import { defaultPolicy } from '../../domain/policy';
import { accounts } from '../../functions/aggregates/ledger';
import { versionKey } from '../../functions/adapters/dynamodb-event-store';
import { rebuildProjections } from '../../functions/rebuild';
import { loadAccount } from '../../functions/views/account-snapshots';
import { listUsageLines } from '../../functions/views/usage-lines';
import { createTestTables, type TestTables } from '../support/dynamodb';

const accountId = 'acct_01aaaaaaaaaaaaaaaaaaaaaaaa';
const jobId = 'job_01bbbbbbbbbbbbbbbbbbbbbbbb';
const streamId = accounts.streamId(accountId);
let tables: TestTables;

/** An item exactly as an older deployment wrote it, put straight into the event table. */
const putOldItem = (version: number, type: string, schemaVersion: number, data: Record<string, unknown>, at: string) =>
  tables.doc.send(
    new PutCommand({
      TableName: tables.names.events,
      Item: { pk: streamId, sk: versionKey(version), version, type, schemaVersion, data, metadata: { actor: 'old-code' }, at },
    }),
  );

beforeAll(async () => {
  tables = await createTestTables();
  // Given an account stream from before credits: a trial-only hold, and its settlement as v1 of
  // HoldSettled wrote it, without gpuType, gpuCount or the billed period.
  await putOldItem(1, 'AccountOpened', 1, { accountId, email: 'ada@example.com', openedAt: '2025-03-01T00:00:00.000Z', trial: { gpuType: 'a100', gpuSeconds: 300 } }, '2025-03-01T00:00:00.000Z');
  await putOldItem(2, 'HoldPlaced', 1, { jobId, gpuType: 'a100', gpuCount: 1, seconds: 120, trialGpuSeconds: 120, placedAt: '2025-03-01T00:01:00.000Z' }, '2025-03-01T00:01:00.000Z');
  await putOldItem(3, 'HoldSettled', 1, { jobId, runSeconds: 42, trialGpuSecondsCharged: 42, trialGpuSecondsReleased: 78, settledAt: '2025-03-01T00:02:00.000Z' }, '2025-03-01T00:02:00.000Z');
});

afterAll(async () => {
  await tables?.drop();
});

describe('an old-version event, read by new code', () => {
  it('is upcast on read to the current schema version', async () => {
    const { events } = await tables.store.readStream(streamId);
    expect(events[2]).toMatchObject({
      type: 'HoldSettled',
      schemaVersion: 2,
      data: { jobId, gpuType: 'a100', periodStart: '2025-03-01T00:02:00.000Z', periodEnd: '2025-03-01T00:02:00.000Z', runSeconds: 42 },
    });
    // The stored item is untouched: history is never rewritten.
    const { Item } = await tables.doc.send(new GetCommand({ TableName: tables.names.events, Key: { pk: streamId, sk: versionKey(3) } }));
    expect(Item).toMatchObject({ schemaVersion: 1 });
    expect(Item!.data.gpuType).toBeUndefined();
  });

  it('is folded by the ledger decider, which decides on it as on a current one', async () => {
    // When the account is loaded and asked for a new hold
    const account = await loadAccount({ doc: tables.doc, tables: tables.names, store: tables.store }, accountId);
    expect(account.state).toMatchObject({ status: 'open', trial: { remaining: 300 - 42, charged: 42 }, holds: {} });
    const events = decideLedger(
      { type: 'PlaceHold', data: { jobId: 'job_01cccccccccccccccccccccccc', gpuType: 'a100', gpuCount: 1, maxRuntimeSeconds: 3600 }, metadata: { now: '2025-03-02T00:00:00.000Z', policy: defaultPolicy } },
      account.state,
    );
    // Then the hold can use exactly the trial seconds the old settlement left
    expect(events).toMatchObject([{ type: 'HoldPlaced', data: { trialGpuSeconds: 300 - 42 } }]);
  });

  it('is projected into a usage line with the fields the old version lacked', async () => {
    await rebuildProjections({ deps: { doc: tables.doc, tables: tables.names }, only: ['usage-lines'] });
    expect(await listUsageLines({ doc: tables.doc, tables: tables.names }, accountId, {})).toEqual([
      {
        jobId,
        gpuType: 'a100',
        source: 'trial',
        gpuSeconds: 42,
        trialGpuSeconds: 42,
        cost: 0,
        periodStart: '2025-03-01T00:02:00.000Z',
        periodEnd: '2025-03-01T00:02:00.000Z',
      },
    ]);
  });

  it('new events are written at their current schema version', async () => {
    const hold = decideLedger(
      { type: 'PlaceHold', data: { jobId: 'job_01cccccccccccccccccccccccc', gpuType: 'a100', gpuCount: 1, maxRuntimeSeconds: 60 }, metadata: { now: '2025-03-02T00:00:00.000Z', policy: defaultPolicy } },
      (await loadAccount({ doc: tables.doc, tables: tables.names, store: tables.store }, accountId)).state,
    );
    await tables.store.append([{ streamId, expectedVersion: 3, events: hold }], { at: '2025-03-02T00:00:00.000Z' });
    const settled = decideLedger(
      { type: 'SettleHold', data: { jobId: 'job_01cccccccccccccccccccccccc', runSeconds: 10 }, metadata: { now: '2025-03-02T00:10:00.000Z', policy: defaultPolicy } },
      (await loadAccount({ doc: tables.doc, tables: tables.names, store: tables.store }, accountId)).state,
    );
    await tables.store.append([{ streamId, expectedVersion: 4, events: settled }], { at: '2025-03-02T00:10:00.000Z' });
    const items = await Promise.all(
      [4, 5].map(async (v) => (await tables.doc.send(new GetCommand({ TableName: tables.names.events, Key: { pk: streamId, sk: versionKey(v) } }))).Item!),
    );
    expect(items.map((i) => [i.type, i.schemaVersion])).toEqual([
      ['HoldPlaced', 1],
      ['HoldSettled', 2],
    ]);
  });
});

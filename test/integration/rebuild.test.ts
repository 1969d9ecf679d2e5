import { DeleteCommand, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalStack } from '../../infra/local/stack';
import { createDynamoClients } from '../../functions/adapters/dynamodb';
import { apiClient, eventually } from '../../infra/local/stack-process';
import { PROJECTION_VERSIONS_PK, readEventStreams, readModelSnapshot, rebuildChangedProjections, rebuildProjections, storedProjectionVersions } from '../../functions/rebuild';
import { projections } from '../../functions/views/projections';
import { signUp, startTestStack, type TestStack } from '../support/local-stack';

let stack: TestStack;
let runningJob: { api: ReturnType<typeof apiClient>; id: string };

/** Waits until two reads of the read models a moment apart agree: the live projections have caught up. */
async function settledSnapshot() {
  let previous = JSON.stringify(await readModelSnapshot(stack.deps));
  return eventually(
    async () => {
      await new Promise((r) => setTimeout(r, 600));
      const now = JSON.stringify(await readModelSnapshot(stack.deps));
      const same = now === previous;
      previous = now;
      return same && (JSON.parse(now) as Awaited<ReturnType<typeof readModelSnapshot>>);
    },
    20_000,
    'the projections to settle',
  );
}

beforeAll(async () => {
  stack = await startTestStack({ gpus: 8 });
  // A realistic workload: two accounts, a one-off and a monthly voucher, jobs that succeed, fail,
  // are cancelled, and one still running when the read models are compared.
  const admin = apiClient(stack.url, stack.adminKey);
  const ada = await signUp(stack.url, 'ada@example.com');
  const bob = await signUp(stack.url, 'bob@example.com');
  const once = await admin.post('/v1/admin/vouchers', { amount: { amount: 50_000, currency: 'CNY' }, max_redemptions: 1 });
  const monthly = await admin.post('/v1/admin/vouchers', { amount: { amount: 20_000, currency: 'CNY' }, max_redemptions: 5, recurrence: 'monthly' });
  expect((await bob.api.post('/v1/vouchers/redeem', { code: once.body.code })).status).toBe(200);
  expect((await bob.api.post('/v1/vouchers/redeem', { code: monthly.body.code })).status).toBe(200);
  expect((await ada.api.post('/v1/vouchers/redeem', { code: monthly.body.code })).status).toBe(200);

  const submit = async (api: ReturnType<typeof apiClient>, command: string, gpuCount = 1, maxRuntime = 60) => {
    const res = await api.post('/v1/jobs', { image: 'local/test:1', command: ['sh', '-c', command], gpu_count: gpuCount, max_runtime_seconds: maxRuntime });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.id as string;
  };
  const finished = [
    await submit(ada.api, 'echo ok'),
    await submit(ada.api, 'exit 3'),
    await submit(bob.api, 'sleep 1.1; echo done', 2),
  ];
  const cancelled = await submit(bob.api, 'sleep 30', 1, 120);
  const running = await submit(bob.api, 'sleep 60', 1, 300);
  runningJob = { api: bob.api, id: running };
  const status = (api: ReturnType<typeof apiClient>, id: string) => api.get(`/v1/jobs/${id}`).then((r) => r.body.status as string);
  await eventually(async () => (await status(bob.api, cancelled)) === 'running', 60_000, 'the job to cancel to run');
  expect((await bob.api.post(`/v1/jobs/${cancelled}/cancel`)).status).toBeLessThan(300);
  for (const [api, id] of [[ada.api, finished[0]], [ada.api, finished[1]], [bob.api, finished[2]], [bob.api, cancelled]] as const) {
    await eventually(async () => ['succeeded', 'failed', 'cancelled'].includes(await status(api, id!)), 30_000, `job ${id} to finish`);
  }
  await eventually(async () => (await status(bob.api, running)) === 'running', 60_000, 'the long job to run');
}, 180_000);

afterAll(async () => {
  await stack?.drop();
}, 60_000);

describe('rebuilding the projections', () => {
  it('yields exactly the read models the live projections wrote', async () => {
    // Given the live read models after the workload, every projection with something in it
    const live = await settledSnapshot();
    expect(live['job-views']).toHaveLength(5);
    expect(live['active-jobs']).toHaveLength(1);
    expect(live['usage-lines']!.length).toBeGreaterThanOrEqual(3);
    expect(live['monthly-vouchers']).toHaveLength(2);

    // When one is damaged, the comparison sees it
    const view = live['job-views']![0]!;
    await stack.deps.doc.send(new UpdateCommand({ TableName: stack.deps.tables.views, Key: { pk: view.pk, sk: view.sk }, UpdateExpression: 'SET #status = :s', ExpressionAttributeNames: { '#status': 'status' }, ExpressionAttributeValues: { ':s': 'bogus' } }));
    await stack.deps.doc.send(new DeleteCommand({ TableName: stack.deps.tables.views, Key: { pk: live['usage-lines']![0]!.pk, sk: live['usage-lines']![0]!.sk } }));
    expect(await readModelSnapshot(stack.deps)).not.toEqual(live);

    // When every projection is dropped and rebuilt from the events
    const phases = new Set<string>();
    const result = await rebuildProjections({ deps: stack.deps, onProgress: (p) => phases.add(p.phase) });

    // Then the read models are exactly the live ones again, and nothing else was touched
    expect(await readModelSnapshot(stack.deps)).toEqual(live);
    expect(result.rebuilt).toEqual(projections.map((p) => p.name));
    expect(result.events).toBeGreaterThan(20);
    expect([...phases]).toEqual(['drop', 'read', 'write']);
    // The API answers from the rebuilt views as before
    expect((await runningJob.api.get('/v1/jobs')).body.data).toHaveLength(3);
  });

  it("each projection's live side, applied again to every event twice and newest first, changes nothing", async () => {
    // Given the read models the live consumers (or the rebuild) left
    const before = await settledSnapshot();
    // When every stored event is delivered again, out of order and twice, to the live side of each projection
    const streams = await readEventStreams(stack.deps.doc, stack.deps.tables.events, { prefixes: [...new Set(projections.map((p) => p.streamPrefix))] });
    const replayed = [...streams.values()].flat().reverse();
    expect(replayed.length).toBeGreaterThan(20);
    for (const stored of [...replayed, ...replayed]) {
      for (const projection of projections.filter((p) => stored.streamId.startsWith(p.streamPrefix))) await projection.apply(stack.deps, stored);
    }
    // Then the read models are as they were
    expect(await readModelSnapshot(stack.deps)).toEqual(before);
  });

  it('rebuilds only the projection whose code version changed, leaving the others untouched', async () => {
    const { doc, tables } = stack.deps;
    const before = await storedProjectionVersions(stack.deps);
    expect([...before.keys()].sort()).toEqual(projections.map((p) => p.name).sort());
    // Given a marker on an item of two projections
    const { ['job-views']: views, ['usage-lines']: lines } = await readModelSnapshot(stack.deps);
    const mark = (key: Record<string, unknown>) =>
      doc.send(new UpdateCommand({ TableName: tables.views, Key: { pk: key.pk, sk: key.sk }, UpdateExpression: 'SET marker = :m', ExpressionAttributeValues: { ':m': true } }));
    const marked = async (key: Record<string, unknown>) => (await doc.send(new GetCommand({ TableName: tables.views, Key: { pk: key.pk, sk: key.sk } }))).Item?.marker === true;
    await mark(views![0]!);
    await mark(lines![0]!);

    // When the usage-lines projection's version is bumped
    const bumped = projections.map((p) => (p.name === 'usage-lines' ? { ...p, version: `${p.version}-next` } : p));
    const result = await rebuildChangedProjections({ deps: stack.deps, projections: bumped });

    // Then only it was rebuilt: its marker is gone, the job view keeps its own, and only its version moved
    expect(result.rebuilt).toEqual(['usage-lines']);
    expect(await marked(lines![0]!)).toBe(false);
    expect(await marked(views![0]!)).toBe(true);
    const after = await storedProjectionVersions(stack.deps);
    expect(after.get('usage-lines')).toBe(`${projections.find((p) => p.name === 'usage-lines')!.version}-next`);
    for (const name of ['job-views', 'active-jobs', 'monthly-vouchers', 'account-snapshots']) expect(after.get(name)).toBe(before.get(name));

    // And a second start with the same code rebuilds nothing
    expect((await rebuildChangedProjections({ deps: stack.deps, projections: bumped })).rebuilt).toEqual([]);
  });

  it('on start, the stack rebuilds a projection whose stored version differs, and only it', async () => {
    // Given the stack stopped (its running job stopped and settled) and its read models settled
    await stack.stop({ graceSeconds: 0 });
    const { tables } = stack.deps;
    const { doc } = createDynamoClients({ endpoint: stack.dynamoEndpoint });
    const deps = { doc, tables };
    const { ['job-views']: views, ['monthly-vouchers']: monthly, ['usage-lines']: lines } = await readModelSnapshot(deps);
    await doc.send(new DeleteCommand({ TableName: tables.views, Key: { pk: monthly![0]!.pk, sk: monthly![0]!.sk } }));
    for (const key of [views![1]!, lines![1]!]) {
      await doc.send(new UpdateCommand({ TableName: tables.views, Key: { pk: key.pk, sk: key.sk }, UpdateExpression: 'SET marker = :m', ExpressionAttributeValues: { ':m': true } }));
    }
    // As if the code of monthly-vouchers had changed since the tables were last rebuilt, and no other
    for (const p of projections) {
      const version = p.name === 'monthly-vouchers' ? 'old' : p.version;
      await doc.send(new UpdateCommand({ TableName: tables.views, Key: { pk: PROJECTION_VERSIONS_PK, sk: p.name }, UpdateExpression: 'SET version = :v', ExpressionAttributeValues: { ':v': version } }));
    }

    // When a stack starts again on the same tables (what `npm start` does on its data directory)
    const prefix = tables.events.slice(0, -'-events'.length);
    const second = await startLocalStack({ port: 0, dataDir: null, dynamoEndpoint: stack.dynamoEndpoint, tablePrefix: prefix, gpus: 1 });
    await second.stop({ graceSeconds: 0 });

    // Then the monthly index is whole again, and the job view and usage line kept their markers
    const after = await readModelSnapshot(deps);
    expect(after['monthly-vouchers']).toEqual(monthly);
    expect(after['job-views']!.find((v) => v.sk === views![1]!.sk)!.marker).toBe(true);
    expect(after['usage-lines']!.filter((line) => line.marker === true)).toHaveLength(1);
    expect((await storedProjectionVersions(deps)).get('monthly-vouchers')).toBe('1');
    doc.destroy();
  }, 60_000);
});

import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { indexLogStreams } from '../../../functions/job-metrics/log-streams';
import { BatchJobStateChange } from '../../../events/batch-state-change';
import * as ingestJobMetrics from '../../../functions/ingest-job-metrics';
import { MetricStore, metricStore } from '../../../functions/job-metrics/metric-store';
import { signUp, startTestStack, type TestStack } from '../../support/local-stack';

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack();
}, 60_000);
afterAll(async () => stack?.drop(), 60_000);

/** Exactly what CloudWatch Logs hands a subscription's Lambda function: base64 of gzipped JSON. */
const subscriptionEvent = (payload: object) => ({ awslogs: { data: gzipSync(Buffer.from(JSON.stringify(payload))).toString('base64') } });

const dataMessage = (logStream: string, logEvents: Array<{ id: string; timestamp: number; message: string }>) =>
  subscriptionEvent({
    messageType: 'DATA_MESSAGE',
    owner: '123456789012',
    logGroup: '/aws/batch/job',
    logStream,
    subscriptionFilters: ['sx-job-metrics'],
    logEvents,
  });

/** A Batch Job State Change as EventBridge delivers it (fields we do not read trimmed). */
const running = (jobName: string, logStreamName: string) => ({
  version: '0',
  id: 'c8f9c4b5-76e5-d76a-f980-7011e206042b',
  'detail-type': 'Batch Job State Change',
  source: 'aws.batch',
  account: '123456789012',
  time: '2026-12-03T10:00:00Z',
  region: 'us-east-1',
  resources: ['arn:aws:batch:us-east-1:123456789012:job/4c7599ae-0a82-49aa-ba5a-4727fcce14a8'],
  detail: {
    jobArn: 'arn:aws:batch:us-east-1:123456789012:job/4c7599ae-0a82-49aa-ba5a-4727fcce14a8',
    jobName,
    jobId: '4c7599ae-0a82-49aa-ba5a-4727fcce14a8',
    jobQueue: 'arn:aws:batch:us-east-1:123456789012:job-queue/sx-on-demand',
    status: 'RUNNING',
    attempts: [],
    createdAt: 1_796_292_000_000,
    startedAt: 1_796_292_010_000,
    container: { image: 'ghcr.io/acme/train:1', logStreamName, taskArn: 'arn:aws:ecs:us-east-1:123456789012:task/sx/0d6ffa3c' },
  },
});

describe("the job log group's subscription (AWS), on DynamoDB Local", () => {
  it("records the points of a job's log events, found by its log stream, once however often a batch is delivered", async () => {
    // Given a job with its own regex, and Batch's RUNNING event naming its log stream
    const { api } = await signUp(stack.url, 'cw@example.com');
    const created = await api.post('/v1/jobs', { image: 'a/b:1', command: ['true'], gpu_count: 1, metric_definitions: [{ name: 'loss', regex: 'loss=([0-9.]+)' }] });
    expect(created.status).toBe(201);
    const jobId = created.body.id as string;
    const stream = 'sx-single-node/default/0d6ffa3c9b2e4a5f8c1d2e3f4a5b6c7d';
    await indexLogStreams(stack.deps, BatchJobStateChange.parse(running(jobId, stream)).detail);

    // When the subscription delivers two batches of its log events, the first one twice
    const ingest = ingestJobMetrics.make(stack.deps);
    const first = dataMessage(stream, [
      { id: '38149720465466813990419063539931318437431227011340107776', timestamp: 1_796_292_011_000, message: 'step 1 loss=2.5' },
      { id: '38149720465466813990419063539931318437431227011340107777', timestamp: 1_796_292_011_000, message: 'loading data' },
    ]);
    expect(await ingest(first)).toEqual({ points: 1 });
    expect(await ingest(first)).toEqual({ points: 1 });
    await ingest(dataMessage(stream, [{ id: '38149720487767559188949686681467036655703888633220333568', timestamp: 1_796_292_012_000, message: 'step 2 loss=1.25' }]));

    // Then the job's metrics hold each point once, at the time it was logged
    const read = await api.get(`/v1/jobs/${jobId}/metrics`);
    expect(read.status).toBe(200);
    expect(read.body).toEqual({
      data: [
        {
          name: 'loss',
          points: [
            { step: null, time: new Date(1_796_292_011_000).toISOString(), value: 2.5 },
            { step: null, time: new Date(1_796_292_012_000).toISOString(), value: 1.25 },
          ],
          last: { step: null, time: new Date(1_796_292_012_000).toISOString(), value: 1.25 },
        },
      ],
    });
  });

  it('reads a long series in chunks, downsampled to its shape, and two points as just its first and last', async () => {
    // Given a job with 2,500 points of loss and one of lr, recorded in three batches (three chunks of loss)
    const { api } = await signUp(stack.url, 'long@example.com');
    const jobId = (await api.post('/v1/jobs', { image: 'a/b:1', command: ['true'], gpu_count: 1 })).body.id as string;
    const store = metricStore(stack.deps);
    const loss = Array.from({ length: 2500 }, (_, i) => ({ name: 'loss', value: 1 / (1 + i), step: i, timeMs: 1_796_292_000_000 + i, position: String(i).padStart(15, '0') }));
    for (let i = 0; i < loss.length; i += 1000) expect(await store.record(jobId, loss.slice(i, i + 1000), Date.now())).toBe(Math.min(1000, loss.length - i));
    await store.record(jobId, [{ name: 'lr', value: 0.1, step: 0, timeMs: 1_796_292_000_000, position: '0'.padStart(15, '0') }], Date.now());

    // Then the whole series comes back in order, downsampled keeping its ends
    const all = (await api.get(`/v1/jobs/${jobId}/metrics?name=loss&max_points=10000`)).body.data[0];
    expect(all.points.map((p: { step: number }) => p.step)).toEqual(loss.map((p) => p.step));
    const hundred = (await api.get(`/v1/jobs/${jobId}/metrics?name=loss&max_points=100`)).body.data[0];
    expect(hundred.points).toHaveLength(100);
    expect([hundred.points[0].step, hundred.points.at(-1).step, hundred.last.step]).toEqual([0, 2499, 2499]);

    // And two points are the first and the last of each metric
    const ends = (await api.get(`/v1/jobs/${jobId}/metrics?max_points=2`)).body.data;
    expect(ends.map((s: { name: string; points: Array<{ step: number }> }) => [s.name, s.points.map((p) => p.step)])).toEqual([
      ['loss', [0, 2499]],
      ['lr', [0]],
    ]);
    expect(ends[0].last).toEqual(all.last);
  });

  it("shares an answer's points among many long series, keeping it within Lambda's response payload", async () => {
    // Given a job with 6 metrics of 10,000 points each (60,000 in all: past one answer's 50,000)
    const { api } = await signUp(stack.url, 'wide@example.com');
    const jobId = (await api.post('/v1/jobs', { image: 'a/b:1', command: ['true'], gpu_count: 1 })).body.id as string;
    const names = ['acc', 'epoch', 'grad_norm', 'loss', 'lr', 'tokens_per_s'];
    const points = Array.from({ length: 10_000 }, (_, i) =>
      names.map((name) => ({ name, value: 1 / (1 + i) + 0.123456789, step: 100_000 + i, timeMs: 1_796_292_000_000 + i, position: String(i).padStart(15, '0') })),
    ).flat();
    expect(await new MetricStore(stack.deps.doc, stack.deps.tables.metrics).record(jobId, points, Date.now())).toBe(60_000);

    // Then asking for 10,000 points of each gives each an equal share, ends kept, under 6 MB
    const all = await api.get(`/v1/jobs/${jobId}/metrics?max_points=10000`);
    expect(all.status).toBe(200);
    expect(all.body.data.map((s: { name: string; points: unknown[] }) => [s.name, s.points.length])).toEqual(names.map((n) => [n, 8_333]));
    expect([all.body.data[0].points[0].step, all.body.data[0].points.at(-1).step, all.body.data[0].last.step]).toEqual([100_000, 109_999, 109_999]);
    expect(JSON.stringify(JSON.stringify(all.body)).length).toBeLessThan(6 * 2 ** 20);
    // And one of them alone, all of its points
    expect((await api.get(`/v1/jobs/${jobId}/metrics?name=loss&max_points=10000`)).body.data[0].points).toHaveLength(10_000);
  });

  it('counts a batch once against the points-per-job limit however often it is delivered, and batches arriving at once each once', async () => {
    // Given a store keeping at most 5 points per job
    const { api } = await signUp(stack.url, 'limit@example.com');
    const jobId = (await api.post('/v1/jobs', { image: 'a/b:1', command: ['true'], gpu_count: 1 })).body.id as string;
    const store = new MetricStore(stack.deps.doc, stack.deps.tables.metrics, 30, 5);
    const batch = (from: number, n: number) =>
      Array.from({ length: n }, (_, i) => ({ name: 'loss', value: from + i, step: from + i, timeMs: 1_796_292_000_000 + from + i, position: String(from + i).padStart(15, '0') }));

    // When a batch of 3 is delivered three times, then another batch of 3
    for (let i = 0; i < 3; i++) expect(await store.record(jobId, batch(0, 3), Date.now())).toBe(3);
    // Then the second batch still finds room for 2 of its points: the first counted once, not three times
    expect(await store.record(jobId, batch(3, 3), Date.now())).toBe(2);
    expect(await store.record(jobId, batch(3, 3), Date.now())).toBe(2);
    expect(await store.record(jobId, batch(6, 1), Date.now())).toBe(0);
    const steps = (await store.read(jobId, Date.now())).get('loss')!.map((p) => p.step);
    expect(steps).toEqual([0, 1, 2, 3, 4]);

    // And eight batches of one job's nodes recorded at once, each twice, are counted once each
    // (another job id of the right shape: the store needs no more of the job than that; a second
    // submission could find the account's trial still held by the first job)
    const other = 'job_0cnt0000000000000000000000';
    const roomy = new MetricStore(stack.deps.doc, stack.deps.tables.metrics, 30, 1_000);
    const kept = await Promise.all([...Array(16).keys()].map((i) => roomy.record(other, batch((i % 8) * 10, 10), Date.now())));
    expect(kept).toEqual(Array(16).fill(10));
    expect(await roomy.record(other, batch(1_000, 1_000), Date.now())).toBe(920);
  });

  it("keeps a job's first metric names up to the limit, the same points however often a batch is delivered", async () => {
    // Given a store keeping at most 2 metric names per job (a job id of the right shape: the store needs no more)
    const jobId = 'job_0nam0000000000000000000000';
    const store = new MetricStore(stack.deps.doc, stack.deps.tables.metrics, 30, 1_000, 2);
    const point = (name: string, i: number) => ({ name, value: i, step: i, timeMs: 1_796_292_000_000 + i, position: String(i).padStart(15, '0') });

    // When a batch names three metrics, the third first seen after the other two, and is delivered twice
    const first = [point('loss', 0), point('lr', 0), point('acc', 1), point('loss', 1), point('grad_norm', 2), point('lr', 2)];
    expect(await store.record(jobId, first, Date.now())).toBe(4);
    expect(await store.record(jobId, first, Date.now())).toBe(4);
    // And a later batch brings a new name and an old one
    expect(await store.record(jobId, [point('acc', 3), point('loss', 3)], Date.now())).toBe(1);

    // Then the job has the first two names only, each point once, and its ends list only those
    const series = await store.read(jobId, Date.now());
    expect([...series].map(([name, points]) => [name, points.map((p) => p.step)])).toEqual([
      ['loss', [0, 1, 3]],
      ['lr', [0, 2]],
    ]);
    expect([...(await store.readEnds(jobId, Date.now())).keys()]).toEqual(['loss', 'lr']);
  });

  it('leaves out points past their retention period, counted from when they were recorded', async () => {
    // Given points of a job recorded by a store keeping them 30 days
    const jobId = 'job_0ret0000000000000000000000';
    const store = new MetricStore(stack.deps.doc, stack.deps.tables.metrics, 30);
    const recordedAt = Date.now();
    await store.record(jobId, [{ name: 'loss', value: 1, step: 1, timeMs: recordedAt, position: '0'.padStart(15, '0') }], recordedAt);
    const day = 86_400_000;

    // Then they are read for 30 days, and not after (DynamoDB's TTL deletes them later, in its own time)
    expect((await store.read(jobId, recordedAt + 30 * day - 1_000)).get('loss')).toHaveLength(1);
    expect((await store.readEnds(jobId, recordedAt + 30 * day - 1_000)).get('loss')).toHaveLength(1);
    expect(await store.read(jobId, recordedAt + 30 * day + 1_000)).toEqual(new Map());
    expect(await store.readEnds(jobId, recordedAt + 30 * day + 1_000)).toEqual(new Map());
  });

  it("maps each node's log stream of a multi-node job to the job, from the nodes' own state changes", async () => {
    // Given a 16-GPU job on two nodes, and the state changes Batch sends: the parent's (no container,
    // its node properties instead) and one per node job (`<parent>#<node>`, under the parent's name)
    // (a job id of the right shape: the index and the subscription need no more of the job than that)
    const jobId = 'job_0mnp0000000000000000000000';
    const parent = running(jobId, 'unused');
    const { container: _none, ...parentDetail } = parent.detail;
    const node = (index: number) => {
      const event = running(jobId, `sx-multi-node/default/node${index}task`);
      return {
        ...event,
        id: `node-${index}-running`,
        detail: { ...event.detail, jobId: `${event.detail.jobId}#${index}`, nodeDetails: { nodeIndex: index, isMainNode: index === 0 } },
      };
    };
    const batchEvents = (await import('../../../functions/batch-events')).make(stack.deps);
    for (const event of [{ ...parent, detail: { ...parentDetail, nodeProperties: { numNodes: 2, mainNode: 0 } } }, node(0), node(1)]) {
      await batchEvents(event as never);
    }

    // Then each node's stream maps to the job, and points logged on node 1 are the job's
    const store = metricStore(stack.deps);
    expect(await store.jobOfLogStream('sx-multi-node/default/node0task')).toBe(jobId);
    expect(await store.jobOfLogStream('sx-multi-node/default/node1task')).toBe(jobId);
    const ingest = ingestJobMetrics.make(stack.deps);
    await ingest(dataMessage('sx-multi-node/default/node0task', [{ id: '1', timestamp: 1_796_292_011_000, message: '{"loss": 2, "step": 1}' }]));
    expect(await ingest(dataMessage('sx-multi-node/default/node1task', [{ id: '2', timestamp: 1_796_292_011_500, message: '{"rank1_loss": 3, "step": 1}' }]))).toEqual({ points: 1 });
    expect([...(await store.read(jobId, Date.now())).keys()]).toEqual(['loss', 'rank1_loss']);
  });

  it('answers the delivery check, and fails (to be retried) on a stream no job is known to write yet', async () => {
    const ingest = ingestJobMetrics.make(stack.deps);
    const control = subscriptionEvent({ messageType: 'CONTROL_MESSAGE', owner: 'CloudwatchLogs', logGroup: '', logStream: '', subscriptionFilters: [], logEvents: [{ id: '', timestamp: 1_796_292_000_000, message: 'CWL CONTROL MESSAGE: Checking health of destination Lambda.' }] });
    expect(await ingest(control)).toEqual({ points: 0 });
    await expect(ingest(dataMessage('sx-single-node/default/unknown', [{ id: '1', timestamp: 1, message: '{"loss": 1}' }]))).rejects.toThrow(ingestJobMetrics.UnknownLogStreamError);
    await expect(ingest({ awslogs: { data: 'not gzip' } })).rejects.toThrow();
  });
});

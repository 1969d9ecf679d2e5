import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, eventually, startStackProcess, type StackProcess } from '../../infra/local/stack-process';
import { runSx } from '../support/sx-process';

let stack: StackProcess;
let gates: string;

beforeAll(async () => {
  gates = await mkdtemp(join(tmpdir(), 'sx-metrics-'));
  stack = await startStackProcess();
}, 150_000);

afterAll(async () => {
  expect(await stack?.stop()).toBe(0);
  await rm(gates, { recursive: true, force: true });
}, 90_000);

let lastKey = '';
async function signUp(email: string) {
  const res = await apiClient(stack.url).post('/v1/signup', { email });
  expect(res.status).toBe(201);
  lastKey = res.body.api_key;
  return apiClient(stack.url, res.body.api_key);
}

const finished = (api: ReturnType<typeof apiClient>, id: string) =>
  eventually(async () => ['succeeded', 'failed'].includes((await api.get(`/v1/jobs/${id}`)).body.status), 30_000, `job ${id} to finish`);

describe('metrics of a job on the local stack, over HTTP', () => {
  it.concurrent('reads JSON lines of a running job, keeps them after it ends, and shows them only to its owner', async () => {
    // Given a job that logs three steps, waits for the test, then logs a fourth
    const api = await signUp('metrics@example.com');
    const key = lastKey;
    const gate = join(gates, 'json');
    const created = await api.post('/v1/jobs', {
      image: 'local/sh:1',
      command: [
        'sh',
        '-c',
        `for i in 1 2 3; do echo "{\\"step\\": $i, \\"loss\\": 2.$i, \\"lr\\": 0.001}"; done; echo not a metric; ` +
          `while [ ! -f ${gate} ]; do sleep 0.1; done; echo '{"step": 4, "loss": 1.5}'`,
      ],
      gpu_count: 1,
    });
    expect(created.status).toBe(201);
    const id = created.body.id;

    // Then while it runs its points can be read
    const running = await eventually(async () => {
      const res = await api.get(`/v1/jobs/${id}/metrics`);
      return res.body.data?.length === 2 && res.body.data[0].points.length === 3 && res.body;
    }, 30_000, 'the first points');
    expect((await api.get(`/v1/jobs/${id}`)).body.status).toBe('running');
    expect(running.data.map((s: { name: string }) => s.name)).toEqual(['loss', 'lr']);
    expect(running.data[0].points.map((p: { step: number; value: number }) => [p.step, p.value])).toEqual([[1, 2.1], [2, 2.2], [3, 2.3]]);
    expect(running.data[0].last).toMatchObject({ step: 3, value: 2.3 });
    expect(Date.parse(running.data[0].last.time)).not.toBeNaN();

    // When it ends, its last point is there too, and stays
    await writeFile(gate, '');
    await finished(api, id);
    const after = await eventually(async () => {
      const res = await api.get(`/v1/jobs/${id}/metrics?name=loss`);
      return res.body.data[0]?.points.length === 4 && res.body;
    }, 10_000, 'the last point');
    expect(after.data).toHaveLength(1);
    expect(after.data[0].last).toMatchObject({ step: 4, value: 1.5 });
    expect((await api.get(`/v1/jobs/${id}/metrics?name=loss&max_points=2`)).body.data[0].points.map((p: { value: number }) => p.value)).toEqual([2.1, 1.5]);

    // And sx shows them: a chart per metric, CSV, JSON, and the last values beside the job
    const env = { SX_API_URL: stack.url, SX_API_KEY: key, COLUMNS: '60' };
    const chart = await runSx(['jobs', 'metrics', id], env);
    expect(chart).toMatchObject({ code: 0, stderr: '' });
    expect(chart.stdout).toMatch(/^loss {2}last 1\.5 at step 4, 4 points\n/);
    expect(chart.stdout).toMatch(/lr {2}last 1\.00e-3 at step 3, 3 points/);
    expect(chart.stdout).toMatch(/[┤┼]/); // the chart's axis
    const csv = await runSx(['jobs', 'metrics', id, '--csv', '--name', 'loss'], env);
    expect(csv.stdout.split('\n').slice(0, 2)).toEqual(['name,step,time,value', `loss,1,${after.data[0].points[0].time},2.1`]);
    expect(JSON.parse((await runSx(['jobs', 'metrics', id, '--json'], env)).stdout).map((s: { name: string }) => s.name)).toEqual(['loss', 'lr']);
    expect((await runSx(['jobs', 'get', id], env)).stdout).toMatch(/metrics\s+loss 1\.5 {2}lr 1\.00e-3/);
    expect(await runSx(['jobs', 'metrics', id, '--json', '--csv'], env)).toMatchObject({ code: 2 });

    // And another account sees no such job
    const other = await signUp('other@example.com');
    expect((await other.get(`/v1/jobs/${id}/metrics`)).status).toBe(404);
    const tooFew = await api.get(`/v1/jobs/${id}/metrics?max_points=1`);
    expect([tooFew.status, tooFew.type.split(';')[0]]).toEqual([400, 'application/problem+json']);
  }, 120_000); // five sx processes start on a busy machine

  it.concurrent("reads a job's own regexes instead of JSON lines, and refuses a regex RE2 cannot run", async () => {
    const api = await signUp('regex@example.com');
    const refused = await api.post('/v1/jobs', {
      image: 'local/sh:1',
      command: ['true'],
      gpu_count: 1,
      metric_definitions: [{ name: 'loss', regex: '(a+)\\1 loss=(\\d+)' }],
    });
    expect(refused.status).toBe(400);
    expect(refused.type).toMatch(/^application\/problem\+json/);
    expect(refused.body).toMatchObject({ type: expect.stringMatching(/invalid_request$/), status: 400 });
    expect(refused.body.detail).toMatch(/metric_definitions\[0\]: "loss"/);
    // A regex of a few characters that compiles to thousands of RE2 instructions is refused the same way
    const costly = await api.post('/v1/jobs', { image: 'local/sh:1', command: ['true'], gpu_count: 1, metric_definitions: [{ name: 'x', regex: '(?:a|aa){1,999}(\\d)' }] });
    expect([costly.status, costly.type.split(';')[0], costly.body.detail]).toEqual([400, 'application/problem+json', expect.stringMatching(/metric_definitions\[0\]: "x": .*RE2 instructions/)]);

    const created = await api.post('/v1/jobs', {
      image: 'local/sh:1',
      command: ['sh', '-c', 'echo "epoch 1 loss=0.75 acc: 91.5%"; echo \'{"loss": 9}\''],
      gpu_count: 1,
      metric_definitions: [
        { name: 'loss', regex: 'loss=([0-9.]+)' },
        { name: 'acc', regex: 'acc: ([0-9.]+)%' },
      ],
    });
    expect(created.status).toBe(201);
    await finished(api, created.body.id);
    const read = await eventually(async () => {
      const res = await api.get(`/v1/jobs/${created.body.id}/metrics`);
      return res.body.data?.length === 2 && res.body;
    }, 10_000, 'the points');
    expect(read.data.map((s: { name: string; points: Array<{ value: number; step: null }> }) => [s.name, s.points.map((p) => [p.step, p.value])])).toEqual([
      ['acc', [[null, 91.5]]],
      ['loss', [[null, 0.75]]],
    ]);
  });
});

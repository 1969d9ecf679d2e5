import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createDynamoClients } from '../../functions/adapters/dynamodb';
import { apiClient, eventually, startStackProcess, type StackProcess } from '../../infra/local/stack-process';
import { tableNames } from '../../infra/tables';
import { attemptStarts, checkAttemptStarts, checkJobs, checkLedger, readAllStreams, type AccountView } from '../support/durability';
import { isAlive, jobProcesses } from '../support/processes';

/**
 * `npm start` as an operator runs it, with its own DynamoDB Local under its data dir: a SIGKILL
 * leaves the JVM and the job processes behind, and the next start must clear them and carry on;
 * Ctrl-C must stop it cleanly (no new requests, jobs SIGTERMed then SIGKILLed after the grace,
 * settled) and exit 0.
 */
let dataDir: string | undefined;
let stack: StackProcess | undefined;

afterAll(async () => {
  if (stack) await stack.kill('SIGKILL');
  // A failed run may leave the JVM: the next start would kill it, but nothing starts after this test.
  const jvm = dataDir ? Number(readFileSync(join(dataDir, 'dynamodb.pid'), 'utf8')) : 0;
  if (jvm > 0 && isAlive(jvm)) process.kill(jvm, 'SIGKILL');
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
}, 30_000);



const logStart = 'echo "$AWS_BATCH_JOB_ATTEMPT" >> "$SX_CHECKPOINT_DIR/starts"';
/** Attempt 1 just runs (to be lost in a crash); later ones leave when SIGTERMed, noting it in their output. */
const politeJob = ['sh', '-c', `${logStart}; if [ "$AWS_BATCH_JOB_ATTEMPT" = 1 ]; then exec sleep 60; fi; trap 'echo TERM > "$SX_OUTPUT_DIR/term"; exit 3' TERM; while true; do sleep 0.1; done`];
/** Ignores SIGTERM: only the SIGKILL after the grace stops it. */
const stubbornJob = ['sh', '-c', `${logStart}; trap '' TERM; while true; do sleep 0.1; done`];

describe('npm start with its own DynamoDB Local', () => {
  it('clears what a SIGKILL left, and on Ctrl-C stops taking requests, stops and settles its jobs and exits 0', { timeout: 240_000 }, async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'sx-shutdown-'));
    const env = { SX_STOP_GRACE_SECONDS: '2', SX_GPUS: '4' };
    const start = async () => (stack = await startStackProcess(env, { dataDir, processGroup: true }));

    // Prepare: a running job, then a crash.
    await start();
    const signup = await apiClient(stack!.url).post('/v1/signup', { email: 'shutdown@example.com' });
    const key: string = signup.body.api_key;
    const accountId: string = signup.body.account.id;
    const created = await apiClient(stack!.url, key).post('/v1/jobs', { image: 'local/polite:1', command: politeJob, gpu_count: 1, max_runtime_seconds: 120 });
    expect(created.status).toBe(201);
    const polite: string = created.body.id;
    await eventually(async () => (await apiClient(stack!.url, key).get(`/v1/jobs/${polite}`)).body.status === 'running', 60_000, 'the job running');
    const leftoverJvm = Number(readFileSync(join(dataDir, 'dynamodb.pid'), 'utf8'));
    await eventually(async () => jobProcesses(dataDir!).length > 0, 10_000, 'the job process');
    const leftoverJobs = jobProcesses(dataDir);
    await stack!.kill('SIGKILL');
    // What a crash leaves behind: the database's JVM and the job, each in its own process group.
    expect(isAlive(leftoverJvm)).toBe(true);
    expect(leftoverJobs.every(isAlive)).toBe(true);

    // Act 1: restart on the same data dir.
    await start();

    // Assess 1: the leftovers are gone, the lost attempt is retried.
    expect(isAlive(leftoverJvm)).toBe(false);
    expect(leftoverJobs.some(isAlive)).toBe(false);
    expect(stack!.output()).toContain('local compute recovered after a crash');
    const api = apiClient(stack!.url, key);
    const stubborn: string = (await api.post('/v1/jobs', { image: 'local/stubborn:1', command: stubbornJob, gpu_count: 1, max_runtime_seconds: 120 })).body.id;
    await eventually(
      async () =>
        (attemptStarts(dataDir!).get(polite) ?? []).length === 2 &&
        (await api.get(`/v1/jobs/${polite}`)).body.status === 'running' &&
        (await api.get(`/v1/jobs/${stubborn}`)).body.status === 'running',
      60_000,
      'both jobs running',
    );

    // Act 2: Ctrl-C.
    const url = stack!.url;
    let exited = false;
    const stopping = stack!.interrupt().then((result) => ((exited = true), result));
    stack = undefined;

    // Assess 2: requests are refused while the stubborn job still has its grace; then a clean exit.
    await eventually(async () => (await fetch(`${url}/v1/account`).then(() => false, () => true)), 10_000, 'requests refused');
    expect(exited).toBe(false);
    expect(await stopping).toEqual({ code: 0, signal: null });
    expect(jobProcesses(dataDir)).toEqual([]);
    expect(readFileSync(join(dataDir, 'compute', 'jobs', polite, 'output', 'term'), 'utf8').trim()).toBe('TERM');

    // Assess 3: after another start, both jobs were settled by the shutdown itself (nothing to recover).
    await start();
    expect(stack!.output()).not.toContain('recovered after a crash');
    const after = apiClient(stack!.url, key);
    for (const id of [polite, stubborn]) {
      const job = (await after.get(`/v1/jobs/${id}`)).body;
      expect(job).toMatchObject({ status: 'failed', failure_reason: 'infrastructure' });
      expect(job.usage.gpu_seconds).toBeGreaterThan(0);
    }
    const { doc } = createDynamoClients({ endpoint: stack!.dynamoEndpoint });
    const streams = await readAllStreams(doc, tableNames('sx-local').events);
    const view = (await after.get('/v1/account')).body as AccountView;
    expect(view.id).toBe(accountId);
    expect([...checkLedger(streams, [view]), ...checkJobs(streams, { settled: true })]).toEqual([]);
    const starts = attemptStarts(dataDir);
    expect(checkAttemptStarts(new Map([[polite, starts.get(polite) ?? []], [stubborn, starts.get(stubborn) ?? []]]))).toEqual([]);
    doc.destroy();
    expect(await stack!.stop()).toBe(0);
    stack = undefined;
  });
});

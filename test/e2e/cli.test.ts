import { randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../../infra/local/stack-process';
import { startTestStack, type TestStack } from '../support/local-stack';
import { runSx, startSx } from '../support/sx-process';
import { Receiver } from '../support/webhook-receiver';

/**
 * `sx` as customers run it: a real process (the bin's JS shim), its real terminal output parsed,
 * against the local stack (in-process here, on the run's shared DynamoDB Local, for speed).
 */
let stack: TestStack;
let home: string;
const receiver = new Receiver();
const TRAINER = fileURLToPath(new URL('../../examples/char-lm/train.mjs', import.meta.url));

beforeAll(async () => {
  await receiver.start();
  stack = await startTestStack({
    policy: { stopGraceSeconds: 2 },
  });
  home = await mkdtemp(join(tmpdir(), 'sx-cli-home-'));
}, 60_000);

afterAll(async () => {
  await stack?.drop();
  await receiver.close();
  if (home) await rm(home, { recursive: true, force: true });
}, 60_000);

let users = 0;
/**
 * A fresh account (each test its own: the trial pays one job at a time) with its own config dir.
 * Signed up over HTTP to spare a process start; `sx signup` has a test of its own.
 */
async function newUser() {
  const config = join(home, `user-${++users}`);
  const email = `cli-${users}-${randomBytes(3).toString('hex')}@example.com`;
  const res = await fetch(`${stack.url}/v1/signup`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email }) });
  expect(res.status).toBe(201);
  const { api_key: key } = (await res.json()) as { api_key: string };
  return { env: { SX_API_URL: stack.url, XDG_CONFIG_HOME: config, HOME: config, SX_API_KEY: key }, email, key, configFile: join(config, 'sx', 'config.json') };
}

/** The API itself, for setting up and for waiting on projections without starting an sx process per poll. */
async function api(key: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${stack.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as any };
}

/**
 * A time of the last few minutes as `sx` shows it. Within 5 seconds it is "just now", so a job that
 * starts and ends in the same moment shows "just now → just now": no assertion may assume the clock moved.
 */
const RECENT_TIME = String.raw`(\d+ (seconds?|minutes?) ago|just now)`;
const RECENT = new RegExp(`^${RECENT_TIME}$`);
const RECENT_PERIOD = new RegExp(`^${RECENT_TIME} → ${RECENT_TIME}$`);

/** The rows of an aligned table: columns split where the header's columns start. */
function parseTable(text: string): Array<Record<string, string>> {
  const [header, ...rows] = text.trimEnd().split('\n');
  const starts = [...header!.matchAll(/\S+(?: \S+)*/g)].map((m) => ({ name: m[0].toLowerCase(), at: m.index! }));
  return rows.map((row) =>
    Object.fromEntries(starts.map((col, i) => [col.name, row.slice(col.at, starts[i + 1]?.at ?? row.length).trim()])),
  );
}

describe('sx, against the local stack', () => {
  it.concurrent('signs up, keeps the key in a 0600 config file, and shows the balance as text and as JSON', async () => {
    const config = join(home, 'signup');
    const env = { SX_API_URL: stack.url, XDG_CONFIG_HOME: config, HOME: config };
    const email = `signup-${randomBytes(3).toString('hex')}@example.com`;
    const signup = await runSx(['signup', email], env);
    expect(signup.code, signup.stderr).toBe(0);
    const key = /^api key\s+(sk_\S+)/m.exec(signup.stdout)![1]!;
    const user = { env, email, key, configFile: join(config, 'sx', 'config.json') };
    expect(statSync(user.configFile).mode & 0o777).toBe(0o600);
    expect(statSync(resolve(user.configFile, '..')).mode & 0o777).toBe(0o700);
    expect(JSON.parse(readFileSync(user.configFile, 'utf8'))).toEqual({ api_key: user.key });

    const text = await runSx(['balance'], user.env);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^trial\s+300 of 300 A100 GPU·s left/m);

    // SX_API_KEY wins over the saved key: a wrong one is refused, in one line.
    const wrong = await runSx(['balance'], { ...user.env, SX_API_KEY: 'sk_nope' });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr.split('\n')[0]).toMatch(/^sx: error: unauthorized \(401\): /);

    // `sx login` reads a piped key, checks it against the API, and saves it 0600.
    const other = { ...user.env, XDG_CONFIG_HOME: join(home, `login-${users}`) };
    const login = await runSx(['login'], other, `${user.key}\n`);
    expect(login, login.stderr).toMatchObject({ code: 0 });
    expect(login.stdout).toContain(`logged in as ${user.email}`);
    expect(statSync(join(other.XDG_CONFIG_HOME, 'sx', 'config.json')).mode & 0o777).toBe(0o600);
  }, 240_000);

  it.concurrent('`sx run` follows a job to success: its log on stdout, its states on stderr, exit code 0', async () => {
    const user = await newUser();
    const run = await runSx(['run', '--image', 'ghcr.io/acme/hello:1', '--name', 'hello', '--', 'sh', '-c', 'echo "hello from $SX_JOB_ID"; sleep 1.5; printf "no newline at the end"'], user.env);
    expect(run.code, run.stderr).toBe(0);
    const id = /submitted (job_\w+)/.exec(run.stderr)?.[1];
    expect(run.stdout).toBe(`hello from ${id}\nno newline at the end\n`);
    // Each status seen is a line of its own (polling may step over a short `running`).
    expect(run.stderr).toMatch(new RegExp(`^sx: ${id} queued \\(1× a100, held 5m00s\\)$`, 'm'));
    expect(run.stderr).toMatch(new RegExp(`^sx: ${id} succeeded after \\d+s · \\d+ GPU·s · paid by the trial; output: file://`, 'm'));

    const events = await runSx(['jobs', 'events', id!], user.env);
    expect(parseTable(events.stdout).map((row) => row.event)).toEqual(['job.queued', 'job.starting', 'job.running', 'job.succeeded']);
  }, 240_000);

  it.concurrent("`sx run` exits with the job's exit code when it fails, and 1 when the API refuses it", async () => {
    const user = await newUser();
    const run = await runSx(['run', '--image', 'a/b:1', '--', 'sh', '-c', 'echo "loss is NaN" >&2; exit 7'], user.env);
    expect(run.code).toBe(7);
    expect(run.stdout).toBe('loss is NaN\n');
    expect(run.stderr).toMatch(/^sx: job_\w+ failed \(non_zero_exit, exit code 7\) after \d+s/m);

    const refused = await runSx(['run', '--gpus', '9', '--image', 'a/b:1', '--', 'true'], user.env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe('sx: error: invalid_request (400): The body is invalid: gpu_count: must be 1 to 8, or a multiple of 8 up to 64 (multi-node)\n');
  }, 240_000);

  it.concurrent('`--detach` returns the id at once (or the job as JSON); jobs logs -f, ls and cancel work on it', async () => {
    const user = await newUser();
    const detached = await runSx(['run', '--detach', '--image', 'a/b:1', '--name', 'ticker', '--', 'sh', '-c', 'for i in 1 2 3; do echo tick $i; sleep 0.5; done'], user.env);
    expect(detached.code).toBe(0);
    const id = detached.stdout.trim();
    expect(id).toMatch(/^job_[0-9a-z]{26}$/);

    const followed = await runSx(['jobs', 'logs', '-f', id, '--interval', '300'], user.env);
    expect(followed.code).toBe(0);
    expect(followed.stdout).toBe('tick 1\ntick 2\ntick 3\n');
    expect(followed.stderr).toContain(`${id} succeeded`);

    const long = JSON.parse((await runSx(['run', '--detach', '--json', '--image', 'a/b:1', '--', 'sleep', '600'], user.env)).stdout);
    expect(long).toMatchObject({ object: 'job', status: 'queued', command: ['sleep', '600'] });

    // The list is a projection: it may lag a moment behind the writes.
    let rows: Array<Record<string, string>> = [];
    for (let i = 0; i < 50 && rows.length < 2; i++) {
      rows = parseTable((await runSx(['jobs', 'ls'], user.env)).stdout);
      if (rows.length < 2) await new Promise((r) => setTimeout(r, 200));
    }
    expect(rows.map((row) => row.id)).toEqual([long.id, id]);
    expect(rows[1]).toMatchObject({ name: 'ticker', status: 'succeeded', gpus: '1× a100' });
    expect(rows[1]!.created).toMatch(RECENT);

    const cancel = await runSx(['jobs', 'cancel', long.id], user.env);
    expect(cancel.code).toBe(0);
    expect(cancel.stdout).toMatch(new RegExp(`^${long.id} (cancelled|cancel requested)`));
  }, 240_000);

  it.concurrent('Ctrl-C without a terminal: the first only says how to cancel, the second cancels, and the exit code is 130', async () => {
    const user = await newUser();
    const sx = startSx(['run', '--image', 'a/b:1', '--interval', '300', '--', 'sh', '-c', 'echo started; sleep 600'], user.env);
    const [, id] = (await sx.waitFor(/sx: (job_\w+) running/))!;
    await sx.waitFor(/started/, 'stdout');
    sx.child.kill('SIGINT');
    await sx.waitFor(/interrupt again to cancel/);
    sx.child.kill('SIGINT');
    const result = await sx.done;
    expect(result.code).toBe(130);
    expect(result.stderr).toContain(`sx: cancelling ${id}`);
    expect(result.stderr).toMatch(new RegExp(`^sx: ${id} cancelled after`, 'm'));
  }, 240_000);

  it.concurrent('--cancel-on-interrupt cancels on SIGTERM without asking (CI)', async () => {
    const user = await newUser();
    const sx = startSx(['run', '--cancel-on-interrupt', '--image', 'a/b:1', '--interval', '300', '--', 'sleep', '600'], user.env);
    await sx.waitFor(/sx: job_\w+ running/);
    sx.child.kill('SIGTERM');
    const result = await sx.done;
    expect(result.code).toBe(130);
    expect(result.stderr).toMatch(/^sx: job_\w+ cancelled after/m);
  }, 240_000);

  it.concurrent('runs the example trainer with `sx run`: it trains, checkpoints and saves its model to the output directory', async () => {
    const user = await newUser();
    const run = await runSx(['run', '--image', 'local/node:20', '--', process.execPath, TRAINER, '--steps', '150', '--checkpoint-every', '50', '--log-every', '50'], user.env);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^starting from scratch/m);
    expect(run.stdout).toMatch(/^\{"step":150,"loss":\d\.\d+\}$/m);
    expect(run.stdout).toMatch(/^checkpoint step 100 /m);
    const output = /output: (file:\/\/\S+)/.exec(run.stderr)![1]!;
    const model = JSON.parse(readFileSync(new URL('model.json', output), 'utf8'));
    expect(model).toMatchObject({ kind: 'char-mlp', steps: 150 });
  }, 240_000);

  it.concurrent('`sx redeem` adds an admin-made voucher as credit once; `sx usage` shows what a job used, line by line with the total', async () => {
    const user = await newUser();
    const voucher = await api(stack.adminKey, 'POST', '/v1/admin/vouchers', { amount: { amount: 5_000, currency: 'CNY' } });
    expect(voucher.status).toBe(201);

    const redeemed = await runSx(['redeem', voucher.body.code], user.env);
    expect(redeemed.code, redeemed.stderr).toBe(0);
    expect(redeemed.stdout).toMatch(/^redeemed: ¥50\.00 of credit \(cred_\w+\), never expires\n$/);
    const again = await runSx(['redeem', voucher.body.code], user.env);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^sx: error: conflict \(409\): .+\n$/);
    const unknown = await runSx(['redeem', 'SX-NOPE-NOPE-NOPE-NOPE', '--json'], user.env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^sx: error: not_found \(404\): .+\n$/);
    const balance = await runSx(['balance'], user.env);
    expect(balance.stdout).toMatch(/^credits\s+¥50\.00$/m);

    const none = await runSx(['usage'], user.env);
    expect(none.stdout).toBe('no usage in this period\n');
    const run = await runSx(['run', '--image', 'a/b:1', '--', 'sh', '-c', 'sleep 1.5'], user.env);
    expect(run.code, run.stderr).toBe(0);
    const id = /submitted (job_\w+)/.exec(run.stderr)![1]!;
    const job = (await api(user.key, 'GET', `/v1/jobs/${id}`)).body;
    expect(job.usage.gpu_seconds).toBeGreaterThan(0);
    // Usage is a projection: wait (over HTTP) until the job's lines add up to its final usage.
    await eventually(async () => {
      const { body } = await api(user.key, 'GET', '/v1/usage');
      return body.data.filter((l: any) => l.job_id === id).reduce((n: number, l: any) => n + l.gpu_seconds, 0) === job.usage.gpu_seconds;
    }, 30_000, 'the usage of the job');

    const usage = await runSx(['usage', '--from', '1h'], user.env);
    expect(usage.code, usage.stderr).toBe(0);
    const lines = usage.stdout.trimEnd().split('\n');
    expect(lines.at(-1)).toBe(`total: ${job.usage.gpu_seconds} GPU·s (${job.usage.gpu_seconds} from the trial), ¥0.00`);
    const rows = parseTable(lines.slice(0, -1).join('\n'));
    expect(rows).toEqual([
      { job: id, gpu: 'a100', 'gpu·s': String(job.usage.gpu_seconds), 'paid by': 'trial', cost: '¥0.00', period: expect.stringMatching(RECENT_PERIOD) },
    ]);
    const json = JSON.parse((await runSx(['usage', '--json'], user.env)).stdout);
    expect(json).toMatchObject({ object: 'usage', total: { gpu_seconds: job.usage.gpu_seconds, cost: { amount: 0 } } });
    const bad = await runSx(['usage', '--from', 'yesterday'], user.env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("option '--from <time>' argument 'yesterday' is invalid");
  }, 240_000);

  it.concurrent('`sx api-keys` creates a named key, lists keys newest first with relative times, and revokes one at once', async () => {
    const user = await newUser();
    const created = await runSx(['api-keys', 'create', '--name', 'ci'], user.env);
    expect(created.code, created.stderr).toBe(0);
    const keyId = /^id\s+(key_\w+)$/m.exec(created.stdout)![1]!;
    const ciKey = /^api key\s+(sk_\S+)\s+\(shown once/m.exec(created.stdout)![1]!;
    expect(created.stdout).toMatch(/^name\s+ci$/m);
    const unnamed = JSON.parse((await runSx(['api-keys', 'create', '--json'], user.env)).stdout);
    expect(unnamed).toMatchObject({ object: 'api_key', id: expect.stringMatching(/^key_/), name: null, api_key: expect.stringMatching(/^sk_/) });

    const listed = await runSx(['api-keys', 'ls'], { ...user.env, SX_API_KEY: ciKey });
    expect(listed.code, listed.stderr).toBe(0);
    const rows = parseTable(listed.stdout);
    expect(rows.map((r) => r.id).slice(0, 2)).toEqual([unnamed.id, keyId]);
    expect(rows).toHaveLength(3);
    expect(rows[1]).toMatchObject({ name: 'ci', created: expect.stringMatching(RECENT) });
    expect(rows[0]!.name).toBe('-');
    expect(listed.stdout).not.toContain('sk_');

    const revoked = await runSx(['api-keys', 'revoke', keyId], user.env);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.stdout).toBe(`${keyId} revoked\n`);
    const refused = await runSx(['balance'], { ...user.env, SX_API_KEY: ciKey });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^sx: error: unauthorized \(401\): /);
    const left = JSON.parse((await runSx(['api-keys', 'ls', '--json'], user.env)).stdout) as Array<{ id: string }>;
    expect(left.map((k) => k.id)).not.toContain(keyId);
    expect(left).toHaveLength(2);
  }, 240_000);

  it.concurrent('`sx webhooks` adds an endpoint, lists its real deliveries, rotates its secret, retries a delivery and removes it', async () => {
    const user = await newUser();
    const hook = receiver.route();
    const typo = await runSx(['webhooks', 'add', hook.url, '--events', 'job.done'], user.env);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain('unknown event type job.done');

    const added = await runSx(['webhooks', 'add', hook.url, '--events', 'job.queued,job.succeeded', '--description', 'cli test'], user.env);
    expect(added.code, added.stderr).toBe(0);
    const endpointId = /^id\s+(whep_\w+)$/m.exec(added.stdout)![1]!;
    expect(added.stdout).toMatch(/^secret\s+whsec_\S+\s+\(shown once/m);
    expect(added.stdout).toMatch(/^events\s+job\.queued, job\.succeeded$/m);

    const ls = parseTable((await runSx(['webhooks', 'ls'], user.env)).stdout);
    expect(ls).toEqual([{ id: endpointId, url: hook.url, events: 'job.queued,job.succeeded', status: 'enabled', created: expect.stringMatching(RECENT) }]);
    const got = await runSx(['webhooks', 'get', endpointId], user.env);
    expect(got.stdout).toMatch(/^description\s+cli test$/m);
    expect(got.stdout).not.toContain('whsec_');

    const job = (await api(user.key, 'POST', '/v1/jobs', { image: 'a/b:1', command: ['true'], gpu_count: 1, max_runtime_seconds: 60 })).body;
    // Both deliveries are final once succeeded, so waiting for them cannot step over anything.
    await eventually(async () => {
      const { body } = await api(user.key, 'GET', `/v1/webhook-endpoints/${endpointId}/deliveries?status=succeeded`);
      return body.data.length === 2;
    }, 60_000, 'two succeeded deliveries');
    const deliveries = await runSx(['webhooks', 'deliveries', endpointId], user.env);
    expect(deliveries.code, deliveries.stderr).toBe(0);
    const rows = parseTable(deliveries.stdout);
    expect(rows.map((r) => r.event)).toEqual(['job.succeeded', 'job.queued']);
    for (const row of rows) {
      expect(row).toMatchObject({ id: expect.stringMatching(/^msg_/), status: 'succeeded', code: '200', attempts: '1', 'next retry': '-' });
      expect(row['last attempt']).toMatch(RECENT);
    }
    const queued = rows[1]!.id!;
    expect(hook.got().map((r) => r.headers['webhook-id'])).toEqual([queued, rows[0]!.id]);
    expect(JSON.parse(hook.got()[0]!.body)).toMatchObject({ type: 'job.queued', data: { job: { id: job.id } } });

    const rotating = Date.now();
    const rotated = await runSx(['webhooks', 'rotate-secret', endpointId, '--expire-previous', '10m'], user.env);
    const rotatedBy = Date.now();
    expect(rotated.code, rotated.stderr).toBe(0);
    expect(rotated.stdout).toMatch(/^secret\s+whsec_\S+\s+\(shown once\)$/m);
    const until = /^old secret\s+signs too until (\S+) \(in \d+ minutes?\)$/m.exec(rotated.stdout)?.[1];
    // Ten minutes from the moment the server rotated, which lies between these two readings of the clock
    // (the time is printed to the second), however long the command took.
    expect(Date.parse(until!)).toBeGreaterThanOrEqual(Math.floor(rotating / 1000) * 1000 + 10 * 60_000);
    expect(Date.parse(until!)).toBeLessThanOrEqual(rotatedBy + 10 * 60_000);

    const retried = await runSx(['webhooks', 'retry', endpointId, queued], user.env);
    expect(retried.code, retried.stderr).toBe(0);
    expect(retried.stdout).toMatch(new RegExp(`^${queued} \\(job\\.queued\\) will be sent again`));
    // Sent again with the same webhook-id (and so the same body), which is how a receiver dedupes.
    const sent = await eventually(async () => {
      const copies = hook.got().filter((r) => r.headers['webhook-id'] === queued);
      return copies.length >= 2 ? copies : undefined;
    }, 30_000, 'the retried delivery');
    expect(sent[1]!.body).toBe(sent[0]!.body);

    const enabled = await runSx(['webhooks', 'enable', endpointId], user.env);
    expect(enabled.stdout).toBe(`${endpointId} enabled\n`);
    const removed = await runSx(['webhooks', 'rm', endpointId], user.env);
    expect(removed.stdout).toBe(`${endpointId} deleted\n`);
    expect((await runSx(['webhooks', 'ls'], user.env)).stdout).toBe('no webhook endpoints: add one with sx webhooks add URL\n');
    const gone = await runSx(['webhooks', 'deliveries', endpointId], user.env);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(/^sx: error: not_found \(404\): /);
  }, 240_000);

  it.concurrent('not being logged in and unreachable servers each fail in one readable line', async () => {
    const user = await newUser();
    const notLoggedIn = await runSx(['jobs', 'ls'], { SX_API_URL: stack.url, XDG_CONFIG_HOME: join(home, 'nobody'), SX_API_KEY: undefined });
    expect(notLoggedIn.code).toBe(2);
    expect(notLoggedIn.stderr).toBe('sx: error: not logged in: run `sx login` (or `sx signup EMAIL`), or set SX_API_KEY\n');

    const port = await closedPort();
    const down = await runSx(['jobs', 'ls'], { ...user.env, SX_API_URL: `http://127.0.0.1:${port}`, SX_MAX_RETRIES: '2' });
    expect(down.code).toBe(1);
    const lines = down.stderr.trimEnd().split('\n');
    expect(lines.slice(0, 2)).toEqual([
      expect.stringMatching(/^sx: GET \/v1\/jobs failed \(ECONNREFUSED\); retrying in \d\.\d s \(retry 1\)$/),
      expect.stringMatching(/^sx: GET \/v1\/jobs failed \(ECONNREFUSED\); retrying in \d\.\d s \(retry 2\)$/),
    ]);
    expect(lines[2]).toBe(`sx: error: cannot reach http://127.0.0.1:${port} after 3 attempts: ECONNREFUSED (connect ECONNREFUSED 127.0.0.1:${port}) (is the local stack running? npm start)`);
  }, 240_000);
});

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

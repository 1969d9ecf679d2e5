import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

// The scripts every Batch node installs (infra/cdk/constructs/batch-compute.ts), run as the node runs them.
const script = (name: string) => fileURLToPath(new URL(`../../infra/cdk/node/${name}`, import.meta.url));
const dirs: string[] = [];
const processes: ChildProcess[] = [];
const servers: Server[] = [];
afterEach(() => {
  for (const p of processes.splice(0)) {
    // Each runs in its own process group: the sync service's watcher and saves, the job's sleeps, go with it.
    try {
      process.kill(-p.pid!, 'SIGKILL');
    } catch {
      // the group is gone already
    }
  }
  servers.splice(0).forEach((s) => s.close());
  dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true }));
});
const checkpointDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'sx-ckpt-'));
  dirs.push(dir);
  return dir;
};
const entry = (dir: string, args: string[], env: Record<string, string> = {}) =>
  spawnSync('sh', [script('sx-entry.sh'), ...args], { encoding: 'utf8', env: { PATH: process.env.PATH, SX_CHECKPOINT_DIR: dir, SX_SAVE_TIMEOUT_SECONDS: '0', ...env } });

describe('sx-entry (the first word of every job command)', () => {
  it("runs the job's command with its arguments and exit code once the checkpoint directory is restored", () => {
    const dir = checkpointDir();
    writeFileSync(join(dir, '.sx-restored'), '');
    const res = entry(dir, ['sh', '-c', 'echo "$1 $2"; exit 3', 'sh', 'a b', 'c']);
    expect({ status: res.status, stdout: res.stdout }).toEqual({ status: 3, stdout: 'a b c\n' });
  });

  it('fails the attempt with 70 when the restore has not finished in time, without running the command', () => {
    const res = entry(checkpointDir(), ['sh', '-c', 'echo ran'], { SX_RESTORE_TIMEOUT_SECONDS: '0' });
    expect(res.status).toBe(70);
    expect(res.stdout).toBe('');
    expect(res.stderr).toMatch(/not restored within 0s/);
  });

  it("passes Batch's SIGTERM on to the command and exits with the command's exit code", async () => {
    const dir = checkpointDir();
    writeFileSync(join(dir, '.sx-restored'), '');
    const ready = join(dir, 'ready');
    const job = spawn('sh', [script('sx-entry.sh'), 'sh', '-c', `trap 'exit 7' TERM; touch ${ready}; while :; do sleep 0.1; done`], {
      env: { PATH: process.env.PATH, SX_CHECKPOINT_DIR: dir, SX_STOP_GRACE_SECONDS: '30', SX_SAVE_TIMEOUT_SECONDS: '0' },
      stdio: 'ignore',
      detached: true,
    });
    processes.push(job);
    const exited = new Promise<number | null>((resolve) => job.once('exit', (code) => resolve(code)));
    await until(() => existsSync(ready));
    process.kill(job.pid!, 'SIGTERM');
    expect(await exited).toBe(7);
    expect(existsSync(join(dir, '.sx-stopped'))).toBe(false); // not an interruption: nothing is marked
  });

  it("marks the command's end and exits only once the node has saved the outputs", async () => {
    const dir = checkpointDir();
    writeFileSync(join(dir, '.sx-restored'), '');
    const job = spawn('sh', [script('sx-entry.sh'), 'sh', '-c', 'exit 5'], { env: { PATH: process.env.PATH, SX_CHECKPOINT_DIR: dir }, stdio: 'ignore', detached: true });
    processes.push(job);
    const exited = new Promise<number | null>((resolve) => job.once('exit', (code) => resolve(code)));

    await until(() => existsSync(join(dir, '.sx-exited')));
    const before = job.exitCode;
    writeFileSync(join(dir, '.sx-saved'), '');

    expect(before).toBeNull(); // still waiting for the save
    expect(await exited).toBe(5);
  });

  it('marks the command\'s start just before it runs and its end as soon as it has ended', () => {
    const dir = checkpointDir();
    writeFileSync(join(dir, '.sx-restored'), '');
    const res = entry(dir, ['sh', '-c', 'test -e "$SX_CHECKPOINT_DIR/.sx-started" && test ! -e "$SX_CHECKPOINT_DIR/.sx-exited" && echo started'], { SX_CHECKPOINT_DIR: dir });
    expect(res.stdout).toBe('started\n');
    expect(filesIn(dir)).toEqual(['.sx-exited', '.sx-restored', '.sx-started']);
  });

  it('does not mark a start when the restore never finished', () => {
    const dir = checkpointDir();
    entry(dir, ['true'], { SX_RESTORE_TIMEOUT_SECONDS: '0' });
    expect(filesIn(dir)).toEqual([]);
  });

  it('refuses an empty command with 64', () => {
    const dir = checkpointDir();
    writeFileSync(join(dir, '.sx-restored'), '');
    expect(entry(dir, []).status).toBe(64);
  });
});

// ---------------------------------------------------------------------------------------------
// The host side. Docker, the AWS CLI, systemd and the instance metadata service cannot run here, so
// the scripts run with the stand-ins of test/infra/node-stand-ins on PATH: `docker` answers from a
// directory of containers and prints events through the --format template the script gives it, as
// Docker does (a field Docker no longer has prints as `<no value>`); `aws s3 sync` copies between
// local directories, one per s3:// URI; `systemctl` and `shutdown` only record. The metadata
// service is a local HTTP server, and a "container" is a real process running sx-entry.

/** A node: stand-in commands on PATH, a container directory, a bucket directory and a call log. */
function aNode() {
  const root = checkpointDir();
  const bin = fileURLToPath(new URL('./node-stand-ins', import.meta.url));
  const state = join(root, 'docker');
  const s3 = join(root, 's3');
  for (const d of [state, join(state, 'containers'), s3]) mkdirSync(d, { recursive: true });
  writeFileSync(join(state, 'events'), '');
  const container = (id: string, c: { env: Record<string, string>; mounts: Record<string, string>; running: boolean; pid?: number }) => {
    const dir = join(state, 'containers', id);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'env'), Object.entries(c.env).map(([k, v]) => `${k}=${v}\n`).join(''));
    writeFileSync(join(dir, 'mounts'), Object.entries(c.mounts).map(([k, v]) => `${k} ${v}\n`).join(''));
    writeFileSync(join(dir, 'running'), String(c.running));
    if (c.pid) writeFileSync(join(dir, 'pid'), String(c.pid));
  };
  const env = (extra: Record<string, string> = {}) => ({ PATH: `${bin}:${process.env.PATH}`, FAKE_NODE: root, SX_STATE_DIR: join(root, 'sync-state'), ...extra });
  const calls = () => (existsSync(join(root, 'calls')) ? readFileSync(join(root, 'calls'), 'utf8').trim().split('\n') : []);
  return { root, state, s3, container, env, calls, events: (lines: string[]) => writeFileSync(join(state, 'events'), lines.map((l) => `${l}\n`).join('')) };
}

const jobEnv = { SX_CHECKPOINT_URI: 's3://bucket/checkpoints/job_1/', SX_OUTPUT_URI: 's3://bucket/outputs/job_1/', SX_RUN_URI: 's3://bucket/runs/job_1/', AWS_BATCH_JOB_ATTEMPT: '2' };
/** The node's report of when the command of the job's second attempt ran (what is billed), if written. */
const runReport = (node: { s3: string }): { attempt: number; commandStartedAt: number | null; commandStoppedAt?: number } | undefined => {
  try {
    return JSON.parse(readFileSync(join(node.s3, 'bucket/runs/job_1/2.json'), 'utf8'));
  } catch {
    return undefined; // not written yet, or being written
  }
};
const filesIn = (dir: string) => (existsSync(dir) ? readdirSync(dir).sort() : []);

/** Waits for a condition the scripts reach by themselves, checking every 50 ms (bounded by the test's timeout). */
async function until(condition: () => boolean) {
  while (!condition()) await new Promise((r) => setTimeout(r, 50));
}

describe('sx-job-sync (the node service)', () => {
  it('is valid bash', () => {
    const res = spawnSync('bash', ['-n', script('sx-job-sync.sh')], { encoding: 'utf8' });
    expect({ status: res.status, stderr: res.stderr }).toEqual({ status: 0, stderr: '' });
  });

  it("restores a job's checkpoints when its container starts and saves both directories when it dies, reading Docker's current event fields", () => {
    const node = aNode();
    const ckpt = join(node.root, 'vol-ckpt');
    const out = join(node.root, 'vol-out');
    mkdirSync(ckpt);
    mkdirSync(out);
    mkdirSync(join(node.s3, 'bucket/checkpoints/job_1'), { recursive: true });
    writeFileSync(join(node.s3, 'bucket/checkpoints/job_1/step-100'), 'weights');
    node.container('c1', { env: jobEnv, mounts: { '/sx/checkpoints': ckpt, '/sx/output': out }, running: false });
    node.container('pause', { env: {}, mounts: {}, running: false }); // not a job: left alone

    node.events(['start c1', 'start pause']);
    spawnSync('bash', [script('sx-job-sync.sh')], { encoding: 'utf8', env: node.env() });
    expect(filesIn(ckpt)).toEqual(['.sx-restored', 'step-100']);

    writeFileSync(join(ckpt, 'step-200'), 'newer');
    writeFileSync(join(out, 'model.json'), '{}');
    node.events(['die c1', 'die pause']);
    spawnSync('bash', [script('sx-job-sync.sh')], { encoding: 'utf8', env: node.env() });
    expect(filesIn(join(node.s3, 'bucket/checkpoints/job_1'))).toEqual(['step-100', 'step-200']);
    expect(filesIn(join(node.s3, 'bucket/outputs/job_1'))).toEqual(['model.json']);
    expect(node.calls().filter((c) => c.startsWith('aws')).every((c) => !c.includes('pause'))).toBe(true);
  });

  it("fetches a job's inputs into its read-only input volume before releasing the command: a file, an unpacked archive, an earlier job's output", () => {
    const node = aNode();
    const [ckpt, out, input] = ['vol-ckpt', 'vol-out', 'vol-in'].map((d) => join(node.root, d)) as [string, string, string];
    for (const d of [ckpt, out, input]) mkdirSync(d);
    const files = join(node.s3, 'bucket/files/acct_1');
    mkdirSync(files, { recursive: true });
    writeFileSync(join(files, 'file_a'), 'to be or not to be');
    const src = join(node.root, 'archive-src');
    mkdirSync(join(src, 'shards'), { recursive: true });
    writeFileSync(join(src, 'shards/0.txt'), 'shard zero');
    spawnSync('tar', ['-czf', join(files, 'file_b'), '-C', src, 'shards']);
    mkdirSync(join(node.s3, 'bucket/outputs/job_0/model'), { recursive: true });
    writeFileSync(join(node.s3, 'bucket/outputs/job_0/model/weights.bin'), 'weights');
    const inputs = [
      ['data', 'file', 's3://bucket/files/acct_1/file_a', 'train.txt', '0'],
      ['corpus', 'file', 's3://bucket/files/acct_1/file_b', 'corpus.tar.gz', '1'],
      ['base', 'job', 's3://bucket/outputs/job_0/', '', '0'],
    ];
    const spec = Buffer.from(inputs.map((l) => `${l.join('\t')}\n`).join('')).toString('base64');
    node.container('c1', { env: { ...jobEnv, SX_INPUTS: spec }, mounts: { '/sx/checkpoints': ckpt, '/sx/output': out, '/sx/input': input }, running: false });

    node.events(['start c1']);
    spawnSync('bash', [script('sx-job-sync.sh')], { encoding: 'utf8', env: node.env({ SX_AWS_CONFIG: join(node.root, 'aws-config') }) });

    expect(filesIn(ckpt)).toEqual(['.sx-restored']);
    expect(filesIn(input)).toEqual(['base', 'corpus', 'data']);
    expect(readFileSync(join(input, 'data/train.txt'), 'utf8')).toBe('to be or not to be');
    expect(readFileSync(join(input, 'corpus/shards/0.txt'), 'utf8')).toBe('shard zero');
    expect(filesIn(join(input, 'corpus'))).toEqual(['shards']); // the archive itself is gone
    expect(readFileSync(join(input, 'base/model/weights.bin'), 'utf8')).toBe('weights');
    expect(node.calls().filter((c) => c.startsWith('aws batch'))).toEqual([]);
  });

  it('fails the job as infrastructure, without releasing its command, when an input cannot be fetched', () => {
    const node = aNode();
    const [ckpt, input] = ['vol-ckpt', 'vol-in'].map((d) => join(node.root, d)) as [string, string];
    for (const d of [ckpt, input]) mkdirSync(d);
    const spec = Buffer.from('data\tfile\ts3://bucket/files/acct_1/gone\ttrain.txt\t0\n').toString('base64');
    node.container('c1', { env: { ...jobEnv, SX_INPUTS: spec, AWS_BATCH_JOB_ID: 'batch-1' }, mounts: { '/sx/checkpoints': ckpt, '/sx/input': input }, running: false });

    node.events(['start c1']);
    const res = spawnSync('bash', [script('sx-job-sync.sh')], { encoding: 'utf8', env: node.env({ SX_RETRY_DELAY_SECONDS: '0', SX_AWS_CONFIG: join(node.root, 'aws-config') }) });

    expect(filesIn(ckpt)).toEqual([]); // sx-entry never starts the command
    expect(node.calls().filter((c) => c.startsWith('aws batch'))).toEqual(['aws batch terminate-job --job-id batch-1 --reason sx:infrastructure']);
    // Reported before the job is failed, so the attempt's billing already knows its command never ran.
    expect(runReport(node)).toEqual({ attempt: 2, commandStartedAt: null });
    const calls = node.calls();
    expect(calls.indexOf('aws s3 cp --only-show-errors - s3://bucket/runs/job_1/2.json')).toBeLessThan(calls.indexOf('aws batch terminate-job --job-id batch-1 --reason sx:infrastructure'));
    expect(res.stderr).toMatch(/inputs could not be fetched; failing the job as infrastructure/);
  });

  it("reports when the command started and ended, then saves the outputs, and only then lets the container exit", async () => {
    const node = aNode();
    const [ckpt, out] = ['vol-ckpt', 'vol-out'].map((d) => join(node.root, d)) as [string, string];
    for (const d of [ckpt, out]) mkdirSync(d);
    node.container('c1', { env: jobEnv, mounts: { '/sx/checkpoints': ckpt, '/sx/output': out }, running: true });
    node.events(['start c1']);
    const released = Date.now();
    const sync = spawn('bash', [script('sx-job-sync.sh')], { env: node.env({ SX_EXIT_POLL_SECONDS: '0.05', SX_AWS_CONFIG: join(node.root, 'aws-config') }), stdio: 'ignore', detached: true });
    processes.push(sync);
    const ended = new Promise<void>((resolve) => sync.once('exit', () => resolve()));
    await until(() => existsSync(join(ckpt, '.sx-restored')));

    // sx-entry: the command starts (the inputs are fetched by now); the node reports it at once.
    writeFileSync(join(ckpt, '.sx-started'), '');
    await until(() => runReport(node) !== undefined);
    const start = runReport(node)!;
    expect(start).toEqual({ attempt: 2, commandStartedAt: expect.any(Number) });
    expect(start.commandStartedAt).toBeGreaterThanOrEqual(released);
    expect(start.commandStartedAt).toBeLessThanOrEqual(Date.now());

    // The command runs for a few of the service's polls (a fractional poll interval once ended the watch).
    const polls = node.calls().filter((c) => c.includes('.State.Running')).length;
    await until(() => node.calls().filter((c) => c.includes('.State.Running')).length >= polls + 3);
    // sx-entry: the command wrote its model and ended.
    writeFileSync(join(out, 'model.json'), '{"w":1}');
    writeFileSync(join(ckpt, 'step-9'), 'last');
    const exited = Date.now();
    writeFileSync(join(ckpt, '.sx-exited'), '');
    await until(() => existsSync(join(ckpt, '.sx-saved')));
    const saved = Date.now();

    expect(filesIn(join(node.s3, 'bucket/outputs/job_1'))).toEqual(['model.json']);
    expect(filesIn(join(node.s3, 'bucket/checkpoints/job_1'))).toEqual(['step-9']); // markers stay on the node
    // The end is reported before .sx-saved lets the container (and so the attempt) end.
    const report = runReport(node)!;
    expect(report).toEqual({ attempt: 2, commandStartedAt: start.commandStartedAt, commandStoppedAt: expect.any(Number) });
    expect(report.commandStoppedAt).toBeGreaterThanOrEqual(exited - 1000);
    expect(report.commandStoppedAt).toBeLessThanOrEqual(saved);

    // sx-entry exits: the container stops, and the report stands.
    writeFileSync(join(node.state, 'containers/c1/running'), 'false');
    await ended;
    expect(runReport(node)).toEqual(report);
  });

  it("bills from the node's own observations: a mark dated in the past counts from the release, and an end marked while the command goes on is withdrawn", async () => {
    const node = aNode();
    const ckpt = join(node.root, 'vol-ckpt');
    mkdirSync(ckpt);
    node.container('c1', { env: jobEnv, mounts: { '/sx/checkpoints': ckpt }, running: true });
    node.events(['start c1']);
    const released = Date.now();
    const sync = spawn('bash', [script('sx-job-sync.sh')], {
      env: node.env({ SX_EXIT_POLL_SECONDS: '0.05', SX_EXIT_CONFIRM_SECONDS: '0', SX_AWS_CONFIG: join(node.root, 'aws-config') }),
      stdio: 'ignore',
      detached: true,
    });
    processes.push(sync);
    await until(() => existsSync(join(ckpt, '.sx-restored')));

    // The job's command writes the marks itself (the directory is its own), dated long ago.
    const longAgo = new Date('2000-01-01T00:00:00Z');
    for (const mark of ['.sx-started', '.sx-exited']) {
      writeFileSync(join(ckpt, mark), '');
      utimesSync(join(ckpt, mark), longAgo, longAgo);
    }
    await until(() => existsSync(join(ckpt, '.sx-saved')));
    // The container does not stop after the save: the command had not ended. Only the start stands.
    await until(() => runReport(node) !== undefined && runReport(node)!.commandStoppedAt === undefined);
    expect(runReport(node)).toEqual({ attempt: 2, commandStartedAt: expect.any(Number) });
    expect(runReport(node)!.commandStartedAt).toBeGreaterThanOrEqual(released);
  });

  it('on a Spot interruption notice, SIGTERMs each job, lets it checkpoint within the grace, saves the checkpoint, and keeps the container up for Batch to retry', async () => {
    const node = aNode();
    const ckpt = join(node.root, 'vol-ckpt');
    mkdirSync(ckpt);
    writeFileSync(join(ckpt, '.sx-restored'), '');
    // The job: checkpoints on SIGTERM, as the README asks of a trainer.
    const job = spawn('sh', [script('sx-entry.sh'), 'sh', '-c', 'trap \'echo 200 > "$SX_CHECKPOINT_DIR/step"; exit 0\' TERM; while :; do sleep 0.1; done'], {
      env: { PATH: process.env.PATH, SX_CHECKPOINT_DIR: ckpt, SX_STOP_GRACE_SECONDS: '30' },
      stdio: 'ignore',
      detached: true,
    });
    processes.push(job);
    node.container('c1', { env: jobEnv, mounts: { '/sx/checkpoints': ckpt }, running: true, pid: job.pid });
    node.container('pause', { env: {}, mounts: {}, running: true, pid: 999_999 });

    // The instance metadata service (IMDSv2): no notice at first, then the two-minute warning.
    const seen: string[] = [];
    let polls = 0;
    const imds = createServer((req, res) => {
      seen.push(`${req.method} ${req.url} ${req.headers['x-aws-ec2-metadata-token'] ?? ''}`);
      if (req.method === 'PUT' && req.url === '/latest/api/token') return res.end('tok');
      if (req.url === '/latest/meta-data/spot/instance-action' && req.headers['x-aws-ec2-metadata-token'] === 'tok') {
        polls += 1;
        // The notice comes once the node has seen the command start.
        if (polls < 3 || runReport(node) === undefined) return res.writeHead(404).end();
        return res.end(JSON.stringify({ action: 'terminate', time: '2026-12-03T10:00:00Z' }));
      }
      res.writeHead(401).end();
    });
    servers.push(imds);
    await new Promise<void>((r) => imds.listen(0, '127.0.0.1', r));
    const { port } = imds.address() as AddressInfo;

    node.events(['start c1']);
    writeFileSync(join(node.state, 'hold'), ''); // Docker keeps streaming events
    const sync = spawn('bash', [script('sx-job-sync.sh')], {
      env: node.env({ SX_SPOT: 'true', SX_EXIT_POLL_SECONDS: '0.05', SX_IMDS_URL: `http://127.0.0.1:${port}`, SX_SPOT_POLL_SECONDS: '0.05', SX_STOP_GRACE_SECONDS: '30' }),
      stdio: 'ignore',
      detached: true,
    });
    processes.push(sync);

    const saved = join(node.s3, 'bucket/checkpoints/job_1');
    // The file appears before its bytes do (the sync copies it): wait for a whole line, not for the name.
    await until(() => existsSync(join(saved, 'step')) && readFileSync(join(saved, 'step'), 'utf8').endsWith('\n'));
    expect(readFileSync(join(saved, 'step'), 'utf8')).toBe('200\n');
    expect(filesIn(saved)).toEqual(['step']); // the markers stay on the node
    expect(filesIn(ckpt)).toEqual(['.sx-interrupted', '.sx-restored', '.sx-started', '.sx-stopped', 'step']);
    // The command's run, up to its stop within the grace, is what this attempt bills.
    await until(() => runReport(node)?.commandStoppedAt !== undefined);
    const { commandStartedAt, commandStoppedAt } = runReport(node)!;
    expect(commandStoppedAt).toBeGreaterThanOrEqual(commandStartedAt!);
    expect(job.exitCode).toBeNull(); // still up: Batch sees the host go and retries from the checkpoint
    expect(node.calls().filter((c) => c.startsWith('docker kill'))).toEqual(['docker kill --signal TERM c1']);
    expect(seen.every((s) => s.startsWith('PUT') || s.endsWith(' tok'))).toBe(true);
  });
});

describe('sx-efa-setup (first on every multi-node node)', () => {
  /** An EFA installer archive whose efa_installer.sh runs `body` (in the archive's directory). */
  function installer(root: string, body: string) {
    const src = join(root, 'src', 'aws-efa-installer');
    mkdirSync(src, { recursive: true });
    writeFileSync(join(src, 'efa_installer.sh'), `#!/bin/bash\n${body}\n`, { mode: 0o755 });
    const archive = join(root, 'aws-efa-installer.tar.gz');
    spawnSync('tar', ['-czf', archive, '-C', join(root, 'src'), 'aws-efa-installer']);
    return `file://${archive}`;
  }
  const run = (node: ReturnType<typeof aNode>, url: string, devices: string) => {
    const work = join(node.root, 'work');
    mkdirSync(work, { recursive: true });
    return spawnSync('bash', [script('sx-efa-setup.sh')], {
      encoding: 'utf8',
      env: node.env({ SX_EFA_INSTALLER_URL: url, SX_EFA_DEVICE_DIR: devices, SX_EFA_WORK_DIR: work, SX_EFA_INTERFACES: '4' }),
    });
  };
  const left = ['systemctl mask --now ecs.service', 'shutdown -h now'];

  it('lets the node join when the installer brings up all four EFA devices', () => {
    const node = aNode();
    const devices = join(node.root, 'infiniband');
    const res = run(node, installer(node.root, `mkdir -p ${devices} && touch ${devices}/uverbs{0,1,2,3}`), devices);
    expect(res.status).toBe(0);
    expect(node.calls()).toEqual([]);
  });

  it('takes the node out (no ECS agent, shut down) when the installer fails', () => {
    const node = aNode();
    const res = run(node, installer(node.root, 'echo "kernel headers missing" >&2; exit 1'), join(node.root, 'infiniband'));
    expect(res.status).toBe(1);
    expect(res.stderr).toMatch(/the EFA installer failed; the node leaves/);
    expect(node.calls()).toEqual(left);
  });

  it('takes the node out when the installer succeeds but devices are missing', () => {
    const node = aNode();
    const devices = join(node.root, 'infiniband');
    const res = run(node, installer(node.root, `mkdir -p ${devices} && touch ${devices}/uverbs0 ${devices}/uverbs1`), devices);
    expect(res.status).toBe(1);
    expect(res.stderr).toMatch(/found 2 of 4 EFA devices/);
    expect(node.calls()).toEqual(left);
  });

  it('takes the node out when the installer cannot be downloaded', () => {
    const node = aNode();
    const res = run(node, `file://${join(node.root, 'nowhere.tar.gz')}`, join(node.root, 'infiniband'));
    expect(res.status).toBe(1);
    expect(node.calls()).toEqual(left);
  });
});

describe('sx-s5cmd-setup (every node, before the sync service)', () => {
  /** A release archive holding an `s5cmd` that prints `text`, and its SHA-256. */
  function release(root: string, text = 'v2.3.0') {
    const src = join(root, 'release');
    mkdirSync(src, { recursive: true });
    writeFileSync(join(src, 's5cmd'), `#!/bin/sh\necho ${text}\n`, { mode: 0o755 });
    const archive = join(root, 's5cmd.tar.gz');
    spawnSync('tar', ['-czf', archive, '-C', src, 's5cmd']);
    return { url: `file://${archive}`, sha256: createHash('sha256').update(readFileSync(archive)).digest('hex') };
  }
  const run = (node: ReturnType<typeof aNode>, url: string, sha256: string) => {
    const bin = join(node.root, 'usr-local-bin');
    mkdirSync(bin, { recursive: true });
    const res = spawnSync('bash', [script('sx-s5cmd-setup.sh')], { encoding: 'utf8', env: node.env({ SX_S5CMD_URL: url, SX_S5CMD_SHA256: sha256, SX_S5CMD_BIN_DIR: bin }) });
    return { ...res, installed: join(bin, 's5cmd') };
  };

  it('installs the release whose SHA-256 is the pinned one', () => {
    const node = aNode();
    const { url, sha256 } = release(node.root);
    const res = run(node, url, sha256);
    expect(res.status).toBe(0);
    expect(spawnSync(res.installed, [], { encoding: 'utf8' }).stdout).toBe('v2.3.0\n');
  });

  it('installs nothing from an archive whose SHA-256 differs, and lets the node go on with the AWS CLI', () => {
    const node = aNode();
    const { url } = release(node.root, 'tampered');
    const res = run(node, url, 'de0fdbfa3aceae55e069ba81a0fc17b2026567637603734a387b2fca06c299b4');
    expect(res.status).toBe(0);
    expect(existsSync(res.installed)).toBe(false);
    expect(res.stderr).toMatch(/not the pinned de0fdbfa.*; job inputs are fetched with the AWS CLI/);
  });

  it('goes on without s5cmd when the release cannot be downloaded', () => {
    const node = aNode();
    const res = run(node, `file://${join(node.root, 'nowhere.tar.gz')}`, 'x');
    expect(res.status).toBe(0);
    expect(existsSync(res.installed)).toBe(false);
    expect(res.stderr).toMatch(/could not download s5cmd/);
  });

  it('pins the release the docs name, by its published checksum', () => {
    const text = readFileSync(script('sx-s5cmd-setup.sh'), 'utf8');
    expect(text).toContain('https://github.com/peak/s5cmd/releases/download/v2.3.0/s5cmd_2.3.0_Linux-64bit.tar.gz');
    expect(text).toContain('de0fdbfa3aceae55e069ba81a0fc17b2026567637603734a387b2fca06c299b4');
  });
});

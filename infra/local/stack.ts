import { execFileSync } from 'node:child_process';
import { mkdtemp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import type { Policy } from '../../domain/policy';
import { createDynamoClients } from '../../functions/adapters/dynamodb';
import { buildDeps } from '../../functions/build-deps';
import type { Deps, SweepSettings } from '../../functions/deps';
import { ServiceSettings } from '../../functions/env';
import { eventRules, httpRoutes, schedules, streamConsumers } from '../routes';
import { newAdminKey } from '../../functions/http/auth';
import { LocalScheduler } from './scheduler';
import type { RateLimits } from '../../functions/http/rate-limits';
import type { WebhookSettings } from '../../functions/webhooks/settings';
import { tableNames } from '../tables';
import { metricStore } from '../../functions/job-metrics/metric-store';
import { LogMetrics } from './log-metrics';
import { LocalCompute, type ComputeRecovery } from './compute';
import type { BatchJobStateChange } from '../../events/batch-state-change';
import { ensureTables } from './create-tables';
import { rebuildChangedProjections } from '../../functions/rebuild';
import { startDynamoDbLocal, type DynamoDbLocal } from './dynamodb-local';
import { LocalEventBus } from './event-bus';
import { makeHandler } from './handlers';
import { HttpFront, type ObservedExchange } from './http-front';
import { make as makeAuthorizer } from '../../functions/api-authorizer';
import { publicRoutes } from '../access';
import { StreamPoller } from './stream-poller';
import { ensureConsoleBuild } from '../../console/build';
import { consoleAssets } from './console-assets';
import { S3ObjectStore } from '../../functions/adapters/s3-object-store';
import { startObjectServer, type LocalObjectServer } from './object-server';
import { logger } from '../../functions/logger';
import { JobData } from './compute/job-data';

/** How long the reconciler's run after a restart waits at most for the stream consumers to catch up. */
const RECONCILE_AFTER_RESTART_MAX_MS = 15_000;

export interface LocalStackOptions {
  /** HTTP port; 0 picks a free one. @default 3000 */
  port?: number;
  /** Where everything is kept (DynamoDB Local's files, job outputs and logs); null keeps it in memory and a temp dir. @default '.data' */
  dataDir?: string | null;
  /** Use this DynamoDB (e.g. the tests' shared DynamoDB Local) instead of starting one. */
  dynamoEndpoint?: string;
  /** @default 'sx-local' */
  tablePrefix?: string;
  /** Simulated GPUs of the local compute backend. @default 8 */
  gpus?: number;
  /**
   * The service's settings, as Lambda reads them (`npm start` passes its environment's).
   * @default every setting's default
   */
  settings?: ServiceSettings;
  /** Overrides of the policy the settings give (tests vary the rules with this). */
  policy?: Partial<Policy>;
  /** Stream poll interval when idle. @default 50 */
  pollMs?: number;
  /**
   * Run the stream consumers (projections, webhook fan-out, metrics). Tests that show what a request
   * writes by itself, with nothing projected after it, turn them off. @default true
   */
  consumeStreams?: boolean;
  /** The admin key. @default a new random one (see `LocalStack.adminKey`) */
  adminKey?: string;
  /** Per-schedule rate overrides in seconds, by schedule name (tests speed up retry clocks with this). */
  scheduleRates?: Record<string, number>;
  /** Overrides of the reconciler, hold enforcer and capacity sweeps' settings. */
  sweeps?: Partial<SweepSettings>;
  /**
   * Fault injection for tests: what the event bus gets for each compute state change (`[]` drops it,
   * `[e, e]` doubles it). @default every event once
   */
  computeEvents?: (event: BatchJobStateChange) => BatchJobStateChange[];
  /** Webhook delivery overrides; the local stack always allows loopback receivers (`http://127.0.0.1:*`, `http://localhost:*`). */
  webhooks?: Partial<WebhookSettings>;
  /** Serve the web console at `/`, building it first when its build is missing or stale. @default true */
  console?: boolean;
  /** Overrides of the request limits the settings give (every local client is 127.0.0.1; tests set their own). */
  rateLimits?: Partial<RateLimits>;
  /** Sees every answer as it leaves (the tests check each against the OpenAPI document); must not throw. */
  observe?: (exchange: ObservedExchange) => void;
}

export interface LocalStack {
  url: string;
  port: number;
  dataDir: string;
  dynamoEndpoint: string;
  /** The local S3-compatible server's endpoint (objects under `<dataDir>/objects`). */
  objectsEndpoint: string;
  deps: Deps;
  compute: LocalCompute;
  /** What the compute backend picked up from its journal at start (after a crash: the jobs it lost). */
  recovered: ComputeRecovery;
  adminKey: string;
  /**
   * Stops cleanly: no new requests, running jobs stopped (SIGTERM, grace, SIGKILL) and settled,
   * stream batches in flight finished and checkpointed, DynamoDB Local stopped.
   */
  stop(options?: { graceSeconds?: number }): Promise<void>;
}

/**
 * Starts the whole service on this machine: DynamoDB Local, the tables, the same handlers Lambda
 * runs behind a local API Gateway, stream pollers standing in for event source mappings, an event
 * bus, and the local compute backend standing in for Batch.
 * @throws JavaMissingError when Java is not installed; Error when the port is taken.
 */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  // First, before anything runs that would need stopping: a console that does not compile fails the start.
  const consoleBuild = options.console === false ? null : await ensureConsoleBuild();
  const dataDir = options.dataDir === null ? await mkdtemp(join(tmpdir(), 'sx-local-')) : resolve(options.dataDir ?? '.data');
  await mkdir(dataDir, { recursive: true });
  let dynamo: DynamoDbLocal | undefined;
  const endpoint =
    options.dynamoEndpoint ??
    (dynamo = await startOwnDynamoDbLocal(options.dataDir === null ? undefined : dataDir)).endpoint;
  let objectServer: LocalObjectServer | undefined;
  try {
    objectServer = await startObjectServer(join(dataDir, 'objects'));
    const { client, doc } = createDynamoClients({ endpoint });
    const tables = tableNames(options.tablePrefix ?? 'sx-local');
    await ensureTables(client, tables);

    const bus = new LocalEventBus([]);
    const faults = options.computeEvents ?? ((event: BatchJobStateChange) => [event]);
    const objects = new S3ObjectStore({ client: objectServer.client(), bucket: objectServer.bucket });
    const compute = new LocalCompute({
      data: new JobData(objects),
      dataDir: join(dataDir, 'compute'),
      gpus: options.gpus,
      onEvent: (event) => {
        logMetrics.observe(event);
        faults(event).forEach((delivered) => bus.put(delivered));
      },
    });
    const adminKey = options.adminKey ?? newAdminKey();
    // Built as Lambda builds it (functions/build-deps.ts); only the ports and the tests' overrides differ.
    const built = buildDeps(options.settings ?? ServiceSettings.parse({}), {
      doc,
      tables,
      compute,
      capacity: compute,
      files: compute,
      objects,
      adminKey: async () => adminKey,
      webhooks: { ...options.webhooks, allowLoopback: true },
    });
    const deps: Deps = {
      ...built,
      policy: { ...built.policy, ...options.policy },
      sweeps: { ...built.sweeps, ...options.sweeps },
      rateLimits: { ...built.rateLimits, ...options.rateLimits },
    };
    // What the job log group's subscription filter does in AWS: metrics from each job's log as it is written.
    const logMetrics = new LogMetrics({ store: deps.store, metrics: metricStore(deps), logFile: (jobId) => compute.logFile(jobId) });
    bus.addRules(eventRules.map((rule) => ({ name: rule.name, pattern: rule.pattern, target: makeHandler(rule.handler, deps) })));
    // Before anything can submit: jobs the last run left unfinished are settled or put back in line.
    const recovered = await compute.recover();
    if (recovered.lostAttempts + recovered.requeued + recovered.stopped > 0) {
      logger.info('local compute recovered after a crash', { ...recovered });
    }

    const { Table } = await client.send(new DescribeTableCommand({ TableName: tables.events }));
    const streams = new DynamoDBStreamsClient({ endpoint, region: await client.config.region(), credentials: await client.config.credentials() });
    const pollers = streamConsumers.map(
      (consumer) =>
        new StreamPoller({
          streams,
          streamArn: Table!.LatestStreamArn!,
          consumer,
          handler: makeHandler(consumer.handler, deps),
          doc,
          viewsTable: tables.views,
          pollMs: options.pollMs,
        }),
    );
    if (options.consumeStreams !== false) pollers.forEach((poller) => poller.start());
    // Before the stack takes requests: a projection whose code version changed is rebuilt, and only
    // it. The consumers may already run beside it: rebuildProjections is safe alongside them.
    const rebuilt = await rebuildChangedProjections({ deps: { doc, tables } }).catch(async (error: unknown) => {
      await Promise.all(pollers.map((p) => p.stop()));
      throw error;
    });
    if (rebuilt.events > 0 || rebuilt.dropped > 0) console.log(`rebuilt projections ${rebuilt.rebuilt.join(', ')} from ${rebuilt.events} events in ${rebuilt.seconds.toFixed(1)} s`);

    const scheduler = new LocalScheduler(
      schedules.map((s) => ({ name: s.name, rateSeconds: options.scheduleRates?.[s.name] ?? s.localRateSeconds ?? s.rateSeconds, target: makeHandler(s.handler, deps) })),
    );
    scheduler.start();
    // A crash can lose compute events between the backend and the bus; the reconciler's DescribeJobs
    // finds them, so after a restart it runs at once instead of a period later. Not before the stream
    // consumers have read what the crash left unread: until then the active-jobs view it works from
    // can still show a job as it was several events ago (without its compute job, so it would not be
    // described) or not at all, and a dispatch lost in the crash is not yet redone.
    if (recovered.known > 0) {
      const atTheLatest = new Promise<void>((resolve) => setTimeout(resolve, RECONCILE_AFTER_RESTART_MAX_MS).unref());
      void Promise.race([Promise.all(pollers.map((p) => p.caughtUp)), atTheLatest]).then(() => scheduler.runSoon('reconcile-jobs'));
    }

    // The Lambda authorizer runs before the routes CDK puts it in front of (all but the public ones), as in AWS.
    const authorize = makeAuthorizer(deps);
    const front = new HttpFront(
      httpRoutes.map((r) => ({
        method: r.method,
        path: r.path,
        invoke: makeHandler(r.handler, deps),
        ...(publicRoutes.has(`${r.method} ${r.path}`) ? {} : { authorize }),
      })),
      // The console's pages send file parts straight to the object store, on its own origin.
      consoleBuild ? consoleAssets(consoleBuild.dir, { connectSources: [objectServer.endpoint] }) : undefined,
      options.observe,
    );
    const port = await front.listen(options.port ?? 3000).catch(async (error: NodeJS.ErrnoException) => {
      await Promise.all(pollers.map((p) => p.stop()));
      await scheduler.stop();
      throw error.code === 'EADDRINUSE' ? new Error(`Port ${options.port} is in use: set PORT to another one`) : error;
    });

    let stopped: Promise<void> | undefined;
    const stop = ({ graceSeconds = deps.policy.stopGraceSeconds } = {}) =>
      (stopped ??= (async () => {
        await front.close();
        await scheduler.stop();
        await compute.stop({ graceSeconds });
        await logMetrics.stop();
        await bus.close();
        // Let the pollers see the final events the shutdown just wrote before they stop.
        await new Promise((r) => setTimeout(r, 300));
        await Promise.all(pollers.map((p) => p.stop()));
        streams.destroy();
        client.destroy();
        await objectServer!.stop();
        await dynamo?.stop();
      })());
    return { url: `http://127.0.0.1:${port}`, port, dataDir, dynamoEndpoint: endpoint, objectsEndpoint: objectServer.endpoint, deps, compute, recovered, adminKey, stop };
  } catch (error) {
    await objectServer?.stop();
    await dynamo?.stop();
    throw error;
  }
}

/**
 * Starts the stack's own DynamoDB Local, persistent under `<dataDir>/dynamodb` (in memory without a
 * data dir). Its JVM runs in its own process group, so it outlives a SIGKILLed stack; a pid file
 * lets the next start kill that leftover before a second JVM opens the same database files.
 */
async function startOwnDynamoDbLocal(dataDir: string | undefined): Promise<DynamoDbLocal> {
  if (dataDir === undefined) return startDynamoDbLocal();
  const dbPath = join(dataDir, 'dynamodb');
  const pidFile = join(dataDir, 'dynamodb.pid');
  await killLeftoverJvm(pidFile, dbPath);
  const dynamo = await startDynamoDbLocal({ dataDir: dbPath });
  if (dynamo.pid !== undefined) await writeFile(pidFile, String(dynamo.pid));
  return dynamo;
}

/** SIGKILLs the DynamoDB Local a crashed stack left running on `dbPath`, if its pid file names one, and waits until it is gone. */
async function killLeftoverJvm(pidFile: string, dbPath: string): Promise<void> {
  const pid = Number(await readFile(pidFile, 'utf8').catch(() => ''));
  if (!Number.isInteger(pid) || pid <= 0) return;
  let command = '';
  try {
    // `ps` works on Linux and macOS alike; the check keeps a reused pid of another process alive.
    command = execFileSync('ps', ['-o', 'command=', '-p', String(pid)], { encoding: 'utf8' });
  } catch {
    return; // no such process
  }
  if (!command.includes('DynamoDBLocal') || !command.includes(dbPath)) return;
  console.log(`stopping the DynamoDB Local (pid ${pid}) a crashed run left on ${dbPath}`);
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return;
  }
  for (let waited = 0; waited < 10_000; waited += 50) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

import { createHash, randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { CreateTableCommand, DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDynamoEndpoint } from '../support/dynamodb';
import { SYNTH_TIMEOUT_MS } from '../infra/cdk-app';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { DescribeStreamCommand, DynamoDBStreamsClient, GetRecordsCommand, GetShardIteratorCommand } from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBRecord } from 'aws-lambda';
import { toLambdaRecord } from '../../infra/local/stream-poller';
import { verifyWebhook } from '../../sdk/webhooks';
import { authorizerEvent, DeployedFunction, httpEvent, NODE22, startReceiver, synthesizeRegion } from './harness';
import { apiShape, Cloud } from './stand-ins';
import type { Region } from './template';
import { join } from 'node:path';
import { REPO_ROOT } from '../../infra/cdk/bundling';

/**
 * The rehearsal: one region as CDK synthesizes it, its functions' bundles from the cloud assembly run
 * under Node.js 22 with the template's environment, their DynamoDB calls through a guard that applies
 * each function's synthesized IAM policy (docs/aws.md, "The rehearsal").
 */
/**
 * The longer scenarios start a dozen bundles (each a Node 22 process, 0.3–1.2 s of init on a busy
 * 2-core machine) and invoke them one after another: their time is the machine's load, not a bound.
 */
const SCENARIO_TIMEOUT_MS = 300_000;

/** The receiver's public address (TEST-NET ranges are refused by the webhook URL guard, as any non-public one). */
const RECEIVER_IP = '93.184.216.34';

describe('rehearsal of one synthesized region', () => {
  let root: string;
  let region: Region;
  let outdir: string;
  const deployed = new Map<string, DeployedFunction>();
  let client: DynamoDBClient;
  const tables: string[] = [];
  let hello: DeployedFunction;
  let cloud: Cloud;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  const adminKey = `sk_admin_${'r'.repeat(40)}`;
  const started = Date.now();

  beforeAll(async () => {
    ({ root, outdir, region } = await synthesizeRegion());
    // A customer's webhook receiver, at a public address on the rehearsal's network (lambda-runner.mjs).
    receiver = await startReceiver(root, RECEIVER_IP);
    client = new DynamoDBClient({ endpoint: testDynamoEndpoint(), region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    // The stateful stack's tables, as declared, on DynamoDB Local.
    for (const [id, r] of Object.entries(region.stateful.Resources)) {
      if (r.Type !== 'AWS::DynamoDB::Table' && r.Type !== 'AWS::DynamoDB::GlobalTable') continue;
      const p = r.Properties;
      const TableName = region.physicalName('stateful', id);
      await client.send(
        new CreateTableCommand({
          TableName,
          KeySchema: p.KeySchema,
          AttributeDefinitions: p.AttributeDefinitions,
          BillingMode: 'PAY_PER_REQUEST',
          ...(p.GlobalSecondaryIndexes ? { GlobalSecondaryIndexes: p.GlobalSecondaryIndexes.map((g: any) => ({ IndexName: g.IndexName, KeySchema: g.KeySchema, Projection: g.Projection })) } : {}),
          ...(p.StreamSpecification ? { StreamSpecification: { StreamEnabled: true, StreamViewType: p.StreamSpecification.StreamViewType } } : {}),
        }),
      );
      tables.push(TableName);
    }
    // The stand-ins: the admin key's secret as the stateful stack names it, the template's job definitions.
    const secretId = region.functions().map((f) => f.environment.SX_ADMIN_KEY_SECRET).find(Boolean);
    cloud = new Cloud(region.region, new Map(secretId ? [[secretId, adminKey]] : []));
    cloud.roles = region.roles();
    for (const [id, r] of Object.entries(region.stateless.Resources)) {
      if (r.Type !== 'AWS::Batch::JobDefinition') continue;
      const definition = apiShape(region.resolve('stateless', r.Properties));
      cloud.addDefinition({ ...definition, jobDefinitionName: definition.jobDefinitionName ?? region.physicalName('stateless', id) });
    }
    for (const [id, r] of Object.entries(region.stateless.Resources)) {
      if (r.Type !== 'AWS::Batch::ComputeEnvironment') continue;
      const ce = apiShape(region.resolve('stateless', r.Properties));
      const name = region.physicalName('stateless', id);
      cloud.computeEnvironments.set(name, { ...ce, computeEnvironmentName: name, computeEnvironmentArn: region.arnOf('stateless', id), state: 'ENABLED', status: 'VALID' });
    }
  }, SYNTH_TIMEOUT_MS);

  afterAll(async () => {
    for (const d of deployed.values()) d.stop();
    hello?.stop();
    await receiver?.close();
    for (const t of tables) await client.send(new DeleteTableCommand({ TableName: t })).catch(() => {});
    client?.destroy();
    if (root) await rm(root, { recursive: true, force: true });
  });

  /** No function was denied a request by its policy, and no stand-in refused one for a service rule. */
  function expectEveryRequestAllowed() {
    expect(cloud.refused).toEqual([]);
    const denied = [...deployed.values()].flatMap((d) => d.log.denied.map((x) => `${d.fn.name}: ${JSON.stringify(x)}`));
    expect(denied).toEqual([]);
  }

  /** The function `<stack>:<logical id>`, started on first use and kept warm. */
  async function functionFor(id: string) {
    let d = deployed.get(id);
    if (!d) {
      const fn = region.functions().find((f) => f.id === id);
      if (!fn) throw new Error(`No function ${id}`);
      d = new DeployedFunction(fn, outdir, { dynamodb: testDynamoEndpoint(), region: region.region, cloud, internet: receiver.internet });
      const ready = await d.start();
      expect(ready.node).toMatch(/^v22\./);
      expect(ready.hasHandler).toBe(true);
      deployed.set(id, d);
    }
    return d;
  }

  async function call(routeKey: string, path: string, body?: unknown, headers?: Record<string, string>) {
    const route = region.routes().find((r) => r.routeKey === routeKey);
    if (!route) throw new Error(`No route ${routeKey} in the template`);
    let authorizer: unknown;
    if (route.authorized) {
      // As API Gateway does: the authorizer first (simple responses), its context passed to the route.
      const spec = region.authorizer();
      expect([spec.payloadFormatVersion, spec.simpleResponses]).toEqual(['2.0', true]);
      const verdict = await (await functionFor(spec.functionId)).invoke(authorizerEvent(routeKey, { path, headers }));
      if (verdict.isAuthorized !== true) return { status: 403, headers: {} as Record<string, string>, body: { message: 'Forbidden' } };
      authorizer = { lambda: verdict.context ?? {} };
    }
    const fn = await functionFor(route.functionId);
    const res = await fn.invoke(httpEvent(routeKey, { path, body, headers, ...(authorizer ? { authorizer } : {}) }));
    if (res.statusCode >= 500) throw new Error(`${routeKey} answered ${res.statusCode}; the function logged:\n${fn.output}\nits DynamoDB calls: ${JSON.stringify(fn.log.decisions)}`);
    return { status: res.statusCode as number, headers: (res.headers ?? {}) as Record<string, string>, body: res.body ? (/json/.test(String(res.headers?.['content-type'] ?? 'application/json')) ? JSON.parse(res.body) : res.body) : undefined };
  }

  it('deploys every function with a bundle from the cloud assembly and a role policy', () => {
    const fns = region.functions();
    expect(fns.length).toBeGreaterThanOrEqual(30);
    // The route groups' stacks are read too: the operators' and the webhook endpoints' functions.
    expect(new Set(fns.map((f) => f.stack))).toEqual(new Set(['stateless', 'operators', 'webhooks']));
    for (const f of fns) expect(f.policies.length, f.name).toBeGreaterThan(0);
  });

  it('signs up through the synthesized route, with every DynamoDB call allowed by the function policy', async () => {
    const res = await call('POST /v1/signup', '/v1/signup', { email: 'rehearsal@example.com' }, { 'idempotency-key': 'rehearsal-signup-1' });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const signup = deployed.get(region.routes().find((r) => r.routeKey === 'POST /v1/signup')!.functionId)!;
    expect(signup.log.requests).toBeGreaterThan(0);
    expect(signup.log.denied).toEqual([]);
  });

  it('submits, lists, reads and cancels a job through the authorizer, each function within its policy', { timeout: SCENARIO_TIMEOUT_MS }, async () => {
    const signup = await call('POST /v1/signup', '/v1/signup', { email: 'rehearsal-jobs@example.com' });
    expect(signup.status).toBe(201);
    const auth = { authorization: `Bearer ${signup.body.api_key}` };

    const created = await call('POST /v1/jobs', '/v1/jobs', { image: 'registry.example.com/team/train:1', command: ['python', 'train.py'], gpu_count: 1, max_runtime_seconds: 120 }, { ...auth, 'idempotency-key': 'job-1' });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const replayed = await call('POST /v1/jobs', '/v1/jobs', { image: 'registry.example.com/team/train:1', command: ['python', 'train.py'], gpu_count: 1, max_runtime_seconds: 120 }, { ...auth, 'idempotency-key': 'job-1' });
    expect(replayed.body.id).toBe(created.body.id);
    const listed = await call('GET /v1/jobs', '/v1/jobs', undefined, auth);
    expect(listed.body.data.map((j: { id: string }) => j.id)).toEqual([created.body.id]);
    expect((await call('GET /v1/jobs/{id}', `/v1/jobs/${created.body.id}`, undefined, auth)).body.status).toBe('queued');
    expect((await call('GET /v1/account', '/v1/account', undefined, auth)).status).toBe(200);
    const cancelled = await call('POST /v1/jobs/{id}/cancel', `/v1/jobs/${created.body.id}/cancel`, undefined, auth);
    expect(cancelled.body.status, JSON.stringify(cancelled.body)).toBe('cancelled');
    expect((await call('GET /v1/jobs', '/v1/jobs', undefined, { authorization: 'Bearer sk_wrong' })).status).toBe(401);

    expectEveryRequestAllowed();
  });

  // Lambda's event source mappings, as the template declares them: the events table's stream to its
  // reader, each queue to its consumer, in batches of the mapping's size through its filters.
  const shardCursor = new Map<string, string>();
  const delivered = new Map<string, number>();
  const matches = (pattern: unknown, value: unknown): boolean =>
    Array.isArray(pattern) ? pattern.includes(value) : typeof pattern === 'object' && pattern !== null ? Object.entries(pattern).every(([k, p]) => matches(p, (value as Record<string, unknown>)?.[k])) : pattern === value;
  const passes = (filters: string[], record: unknown) => filters.length === 0 || filters.some((f) => matches(JSON.parse(f), record));

  async function newStreamRecords(): Promise<DynamoDBRecord[]> {
    const eventsTable = tables.find((t) => /events/i.test(t))!;
    const { Table } = await client.send(new DescribeTableCommand({ TableName: eventsTable }));
    const streams = new DynamoDBStreamsClient({ endpoint: testDynamoEndpoint(), region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    const out: DynamoDBRecord[] = [];
    try {
      const { StreamDescription } = await streams.send(new DescribeStreamCommand({ StreamArn: Table!.LatestStreamArn! }));
      for (const shard of StreamDescription?.Shards ?? []) {
        const after = shardCursor.get(shard.ShardId!);
        let { ShardIterator } = await streams.send(
          new GetShardIteratorCommand({ StreamArn: Table!.LatestStreamArn!, ShardId: shard.ShardId!, ...(after ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: after } : { ShardIteratorType: 'TRIM_HORIZON' }) }),
        );
        for (let pages = 0; ShardIterator && pages < 50; pages++) {
          const page = await streams.send(new GetRecordsCommand({ ShardIterator }));
          for (const r of page.Records ?? []) {
            out.push(toLambdaRecord(r, Table!.LatestStreamArn!));
            shardCursor.set(shard.ShardId!, r.dynamodb!.SequenceNumber!);
          }
          if ((page.Records ?? []).length === 0) break;
          ShardIterator = page.NextShardIterator;
        }
      }
    } finally {
      streams.destroy();
    }
    return out;
  }

  /** Runs the mappings until nothing new arrives: what Lambda's pollers would do after the requests. */
  async function pump() {
    for (let round = 0; round < 10; round++) {
      let moved = false;
      const records = await newStreamRecords();
      for (const mapping of region.eventSourceMappings().filter((m) => m.kind === 'dynamodb')) {
        const batch = records.filter((r) => passes(mapping.filters, r));
        for (let i = 0; i < batch.length; i += mapping.batchSize) {
          const res = await (await functionFor(mapping.functionId)).invoke({ Records: batch.slice(i, i + mapping.batchSize) });
          expect(res?.batchItemFailures ?? [], `stream reader ${mapping.functionId}: ${(await functionFor(mapping.functionId)).output.slice(-1500)}`).toEqual([]);
          moved = true;
        }
      }
      for (const mapping of region.eventSourceMappings().filter((m) => m.kind === 'sqs')) {
        const queueName = mapping.source.split(':').pop()!;
        const url = [...cloud.queues.keys()].find((u) => u.endsWith(`/${queueName}`));
        const messages = url ? cloud.queues.get(url)! : [];
        const from = delivered.get(queueName) ?? 0;
        const pending = messages.slice(from).map((m) => ({
          messageId: m.messageId,
          receiptHandle: m.messageId,
          body: m.body,
          attributes: { ApproximateReceiveCount: '1', SentTimestamp: String(Date.now()), ...(m.groupId ? { MessageGroupId: m.groupId } : {}), ...(m.deduplicationId ? { MessageDeduplicationId: m.deduplicationId } : {}) },
          messageAttributes: {},
          md5OfBody: '',
          eventSource: 'aws:sqs',
          eventSourceARN: mapping.source,
          awsRegion: region.region,
        }));
        const batch = pending.filter((m) => passes(mapping.filters, m));
        for (let i = 0; i < batch.length; i += mapping.batchSize) {
          const res = await (await functionFor(mapping.functionId)).invoke({ Records: batch.slice(i, i + mapping.batchSize) });
          expect(res?.batchItemFailures ?? [], `queue consumer ${mapping.functionId}: ${(await functionFor(mapping.functionId)).output.slice(-1500)}`).toEqual([]);
          moved = true;
        }
        delivered.set(queueName, messages.length);
      }
      if (!moved) return;
    }
  }

  /** Delivers an event to every function whose EventBridge rule matches it, as the default bus does. */
  async function emit(event: Record<string, unknown>) {
    const rules = region.eventRules().filter((r) => matches(r.pattern, event));
    expect(rules.length, `no rule matches ${JSON.stringify(event).slice(0, 300)}`).toBeGreaterThan(0);
    for (const rule of rules) for (const id of rule.functionIds) await (await functionFor(id)).invoke(event);
  }

  it('carries a voucher, a single- and a multi-node job from the API through the stream, the queues and their consumers to Batch, and Batch state changes back through the event rule to settlement', { timeout: SCENARIO_TIMEOUT_MS }, async () => {
    const voucher = await call('POST /v1/admin/vouchers', '/v1/admin/vouchers', { amount: { amount: 100_000, currency: 'CNY' }, max_redemptions: 1 }, { authorization: `Bearer ${adminKey}` });
    expect(voucher.status, JSON.stringify(voucher.body)).toBe(201);
    const signup = await call('POST /v1/signup', '/v1/signup', { email: 'rehearsal-batch@example.com' });
    const auth = { authorization: `Bearer ${signup.body.api_key}` };
    expect((await call('POST /v1/vouchers/redeem', '/v1/vouchers/redeem', { code: voucher.body.code }, auth)).status).toBe(200);
    // A single-node job on another account, on its trial (one account's 16 GPUs go to the multi-node job).
    const other = await call('POST /v1/signup', '/v1/signup', { email: 'rehearsal-single@example.com' });
    const single = await call('POST /v1/jobs', '/v1/jobs', { image: 'registry.example.com/team/train:1', command: ['python', 'train.py'], gpu_count: 1, max_runtime_seconds: 120 }, { authorization: `Bearer ${other.body.api_key}` });
    const multi = await call('POST /v1/jobs', '/v1/jobs', { image: 'registry.example.com/team/train:1', command: ['torchrun', 'train.py'], gpu_count: 16, max_runtime_seconds: 600 }, auth);
    expect([single.status, multi.status], JSON.stringify([single.body, multi.body])).toEqual([201, 201]);

    await pump();

    expect(cloud.refused).toEqual([]);
    const byName = new Map(cloud.submitted.map((s) => [s.request.jobName, s.request]));
    expect([...byName.keys()].sort()).toEqual([single.body.id, multi.body.id].sort());
    const multiNode = byName.get(multi.body.id)!;
    expect(multiNode.nodeOverrides?.numNodes).toBe(2);
    expect(String(multiNode.jobDefinition)).toMatch(/job-definition\/sx-multi-node-[0-9a-f]{16}:1$/);
    // Batch's state changes, through the template's EventBridge rule to its function, then the projections.
    const queueArn = (queue: string) => (queue.startsWith('arn:') ? queue : `arn:aws:batch:${region.region}:123456789012:job-queue/${queue}`);
    const submittedJob = (jobId: string) => cloud.submitted.find((s) => s.request.jobName === jobId)!;
    const t0 = Date.now();
    const change = (jobId: string, status: string, extra: Record<string, unknown> = {}) => ({
      version: '0',
      id: randomUUID(),
      'detail-type': 'Batch Job State Change',
      source: 'aws.batch',
      account: '123456789012',
      time: new Date().toISOString(),
      region: region.region,
      resources: [`arn:aws:batch:${region.region}:123456789012:job/${submittedJob(jobId).jobId}`],
      // Batch names the queue by its ARN in its events, whatever the submission named it by.
      detail: { jobName: jobId, jobId: submittedJob(jobId).jobId, jobQueue: queueArn(String(submittedJob(jobId).request.jobQueue)), status, createdAt: t0, attempts: [], ...extra },
    });
    const describe = (jobId: string, detail: Record<string, unknown>) => (submittedJob(jobId).detail = detail);
    describe(single.body.id, { status: 'RUNNING', startedAt: t0 });
    describe(multi.body.id, { status: 'RUNNING', startedAt: t0 });
    await emit(change(single.body.id, 'RUNNING', { startedAt: t0 }));
    await emit(change(multi.body.id, 'RUNNING', { startedAt: t0 }));
    await pump();
    expect((await call('GET /v1/jobs/{id}', `/v1/jobs/${multi.body.id}`, undefined, auth)).body.status).toBe('running');
    const attempt = (exitCode: number) => [{ startedAt: t0, stoppedAt: t0 + 30_000, container: { exitCode } }];
    // The single-node job's node reported its command's own run: 20 s of the container's 30 (it fetched
    // inputs before and saved outputs after), which is what is billed.
    const bucket = String(submittedJob(single.body.id).request.containerOverrides.environment.find((e: { name: string }) => e.name === 'SX_RUN_URI').value);
    cloud.objects.set(`${bucket.slice('s3://'.length)}1.json`, JSON.stringify({ attempt: 1, commandStartedAt: t0 + 4_000, commandStoppedAt: t0 + 24_000 }));
    describe(single.body.id, { status: 'SUCCEEDED', startedAt: t0, stoppedAt: t0 + 30_000, attempts: attempt(0), container: { exitCode: 0 } });
    describe(multi.body.id, { status: 'FAILED', startedAt: t0, stoppedAt: t0 + 30_000, attempts: attempt(1), container: { exitCode: 1 } });
    await emit(change(single.body.id, 'SUCCEEDED', { startedAt: t0, stoppedAt: t0 + 30_000, attempts: attempt(0), container: { exitCode: 0 } }));
    await emit(change(multi.body.id, 'FAILED', { startedAt: t0, stoppedAt: t0 + 30_000, attempts: attempt(1), container: { exitCode: 1 }, statusReason: 'Essential container in task exited' }));
    await pump();

    const failed = (await call('GET /v1/jobs/{id}', `/v1/jobs/${multi.body.id}`, undefined, auth)).body;
    expect({ status: failed.status, reason: failed.failure_reason, gpuSeconds: failed.usage.gpu_seconds }).toEqual({ status: 'failed', reason: 'non_zero_exit', gpuSeconds: 16 * 30 });
    const succeeded = (await call('GET /v1/jobs/{id}', `/v1/jobs/${single.body.id}`, undefined, { authorization: `Bearer ${other.body.api_key}` })).body;
    expect({ status: succeeded.status, gpuSeconds: succeeded.usage.gpu_seconds }).toEqual({ status: 'succeeded', gpuSeconds: 20 });
    // Its log, from the job log group's stream Batch names in the job's description, page by page.
    const logGroup = region.functions().map((f) => f.environment.SX_JOB_LOG_GROUP).find(Boolean)!;
    const logStream = `sx-single-node/default/${randomUUID().replace(/-/g, '')}`;
    describe(single.body.id, { ...submittedJob(single.body.id).detail, container: { exitCode: 0, logStreamName: logStream } });
    cloud.logs.set(`${logGroup}:${logStream}`, Array.from({ length: 3 }, (_, i) => ({ timestamp: t0 + i, message: `{"step": ${i}, "loss": ${3 - i}}` })));
    const logs = await call('GET /v1/jobs/{id}/logs', `/v1/jobs/${single.body.id}/logs`, undefined, { authorization: `Bearer ${other.body.api_key}` });
    expect([logs.status, logs.body]).toEqual([200, '{"step": 0, "loss": 3}\n{"step": 1, "loss": 2}\n{"step": 2, "loss": 1}\n']);
    const account = (await call('GET /v1/account', '/v1/account', undefined, auth)).body;
    expect(JSON.stringify(account)).not.toContain('"held":{"amount":1'); // nothing is held once both have settled
    const usage = await call('GET /v1/usage', '/v1/usage', undefined, auth);
    // One line per funding source of the settlement (trial, then the voucher's credit): 480 GPU-seconds in all.
    const lines = usage.body.data as Array<{ job_id: string; gpu_seconds: number }>;
    expect(new Set(lines.map((l) => l.job_id))).toEqual(new Set([multi.body.id]));
    expect(lines.reduce((sum, l) => sum + l.gpu_seconds, 0)).toBe(480);

    // Every schedule's function, invoked as EventBridge Scheduler does, runs within its policy.
    for (const schedule of region.schedules()) await (await functionFor(schedule.functionId)).invoke({});
    expect(region.schedules().length).toBeGreaterThanOrEqual(6);
    expectEveryRequestAllowed();
  });

  it("delivers signed webhooks to a customer's receiver, and an operator suspends and reactivates the account, through the route groups' own stacks", { timeout: SCENARIO_TIMEOUT_MS }, async () => {
    const signup = await call('POST /v1/signup', '/v1/signup', { email: 'rehearsal-hooks@example.com' });
    const auth = { authorization: `Bearer ${signup.body.api_key}` };
    // The webhook endpoint's route is in the webhooks stack.
    const endpoint = await call('POST /v1/webhook-endpoints', '/v1/webhook-endpoints', { url: receiver.url }, auth);
    expect(endpoint.status, JSON.stringify(endpoint.body)).toBe(201);
    expect(region.functions().find((f) => f.id === region.routes().find((r) => r.routeKey === 'POST /v1/webhook-endpoints')!.functionId)!.stack).toBe('webhooks');
    const job = await call('POST /v1/jobs', '/v1/jobs', { image: 'registry.example.com/team/train:1', command: ['python', 'train.py'], gpu_count: 1, max_runtime_seconds: 60 }, auth);
    expect(job.status, JSON.stringify(job.body)).toBe(201);
    await pump();

    // The operators' routes (their own stack): suspension refuses the customer's key at once and
    // cancels the queued job; reactivation restores access.
    const accountId = (await call('GET /v1/account', '/v1/account', undefined, auth)).body.id as string;
    const operator = { authorization: `Bearer ${adminKey}`, 'x-operator': 'rehearsal-ops' };
    const suspended = await call('POST /v1/admin/accounts/{id}/suspend', `/v1/admin/accounts/${accountId}/suspend`, { reason: 'rehearsal' }, operator);
    expect(suspended.status, JSON.stringify(suspended.body)).toBe(200);
    expect(region.functions().find((f) => f.id === region.routes().find((r) => r.routeKey === 'POST /v1/admin/accounts/{id}/suspend')!.functionId)!.stack).toBe('operators');
    expect((await call('GET /v1/account', '/v1/account', undefined, auth)).status).toBe(403);
    await pump();
    expect((await call('POST /v1/admin/accounts/{id}/reactivate', `/v1/admin/accounts/${accountId}/reactivate`, { reason: 'rehearsal over' }, operator)).status).toBe(200);
    expect((await call('GET /v1/jobs/{id}', `/v1/jobs/${job.body.id}`, undefined, auth)).body.status).toBe('cancelled');
    const ledger = await call('GET /v1/admin/accounts/{id}/ledger', `/v1/admin/accounts/${accountId}/ledger`, undefined, operator);
    expect(ledger.status, JSON.stringify(ledger.body)).toBe(200);

    // The fan-out made each first attempt as it created the deliveries; the scheduled sender (as
    // EventBridge Scheduler invokes it) attempts whatever is still due. Every delivery reached the
    // receiver over TLS, signed with the endpoint's secret, and is recorded as delivered.
    const send = region.schedules().find((s) => /sendwebhooks/i.test(s.id));
    expect(send, 'a schedule for the webhook sender').toBeDefined();
    await (await functionFor(send!.functionId)).invoke({});
    const fanOut = [...deployed.values()].find((d) => /fanoutwebhooks/i.test(d.fn.logicalId));
    const types = receiver.received().map((r) => verifyWebhook(endpoint.body.secret, r.body, r.headers).event.type);
    expect(types, `the fan-out logged:\n${fanOut?.output}`).toEqual(expect.arrayContaining(['job.queued', 'job.cancelled']));
    const deliveries = await call('GET /v1/webhook-endpoints/{id}/deliveries', `/v1/webhook-endpoints/${endpoint.body.id}/deliveries`, undefined, auth);
    const statuses = (deliveries.body.data as Array<{ status: string; attempts: Array<{ status_code: number | null }> }>).map((d) => [d.status, d.attempts.at(-1)?.status_code]);
    expect(statuses.length).toBe(receiver.received().length);
    expect(new Set(statuses.map((x) => JSON.stringify(x)))).toEqual(new Set([JSON.stringify(['succeeded', 204])]));

    expectEveryRequestAllowed();
  });

  it('uploads a file through signed URLs of a narrowed URL-signer session, trains on it, hands out its outputs, and sweeps an abandoned upload', { timeout: SCENARIO_TIMEOUT_MS }, async () => {
    const signup = await call('POST /v1/signup', '/v1/signup', { email: 'rehearsal-data@example.com' });
    const auth = { authorization: `Bearer ${signup.body.api_key}` };
    const text = Buffer.from('to be or not to be\n'.repeat(64));
    const sha256 = createHash('sha256').update(text).digest('hex');
    const created = await call('POST /v1/files', '/v1/files', { filename: 'train.txt', size: text.length, sha256 }, auth);
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const file = created.body as { id: string; upload: { parts: Array<{ part_number: number; url: string; method: string; headers?: Record<string, string> }> } };
    // The customer sends the bytes to the signed URL itself: its session may put that one key only.
    const part = file.upload.parts[0]!;
    const put = await fetch(part.url, { method: part.method, headers: part.headers ?? {}, body: text });
    expect(put.status, await put.clone().text()).toBe(200);
    const stolen = new URL(part.url);
    stolen.pathname = stolen.pathname.replace(/files\/[^/]+\//, 'files/acct_someoneelse0000000000000000/');
    expect((await fetch(stolen, { method: 'PUT', body: text })).status, 'a signed URL reaches no other key').toBe(403);
    const completed = await call('POST /v1/files/{id}/complete', `/v1/files/${file.id}/complete`, { parts: [{ part_number: 1, etag: put.headers.get('etag') }] }, auth);
    expect(completed.status, JSON.stringify(completed.body)).toBe(200);
    expect(completed.body.status).toBe('ready');
    const content = await call('GET /v1/files/{id}/content', `/v1/files/${file.id}/content`, undefined, auth);
    expect(content.status).toBe(302);
    const downloaded = Buffer.from(await (await fetch(content.headers.location!)).arrayBuffer());
    expect(createHash('sha256').update(downloaded).digest('hex')).toBe(sha256);

    // A job reading it: the node gets its S3 location; what the node then saves under the job's
    // outputs is handed out as signed downloads, also after the job ended.
    const job = await call('POST /v1/jobs', '/v1/jobs', { image: 'registry.example.com/team/train:1', command: ['python', 'train.py'], gpu_count: 1, max_runtime_seconds: 60, inputs: [{ name: 'data', file_id: file.id }] }, auth);
    expect(job.status, JSON.stringify(job.body)).toBe(201);
    await pump();
    const submitted = cloud.submitted.find((x) => x.request.jobName === job.body.id)!;
    const environment = new Map<string, string>(submitted.request.containerOverrides.environment.map((e: { name: string; value: string }) => [e.name, e.value]));
    expect(Buffer.from(environment.get('SX_INPUTS')!, 'base64').toString('utf8')).toContain(`files/`);
    const outputUri = environment.get('SX_OUTPUT_URI')!;
    cloud.objects.set(`${outputUri.slice('s3://'.length).replace(/\/?$/, '/')}model/weights.bin`, Buffer.from('weights'));
    expect((await call('POST /v1/jobs/{id}/cancel', `/v1/jobs/${job.body.id}/cancel`, undefined, auth)).status).toBe(200);
    await pump();
    const outputs = await call('GET /v1/jobs/{id}/outputs', `/v1/jobs/${job.body.id}/outputs`, undefined, auth);
    expect(outputs.status, JSON.stringify(outputs.body)).toBe(200);
    const [output] = outputs.body.data as Array<{ path: string; url: string }>;
    expect(output?.path).toBe('model/weights.bin');
    expect(Buffer.from(await (await fetch(output!.url)).arrayBuffer()).toString()).toBe('weights');
    const other = new URL(output!.url);
    other.pathname = other.pathname.replace(job.body.id, 'job_0another00000000000000000');
    expect((await fetch(other)).status, "a signed download reaches no other job's outputs").toBe(403);

    // An upload left open two days (its create crashed before the file was recorded): the hourly sweep aborts it.
    cloud.uploads.set('abandoned', { bucket: outputUri.slice('s3://'.length).split('/')[0]!, key: `files/${(await call('GET /v1/account', '/v1/account', undefined, auth)).body.id}/file_0abandoned000000000000000`, initiated: new Date(Date.now() - 2 * 86_400_000).toISOString(), parts: new Map() });
    const sweep = region.schedules().find((x) => /expireuploads/i.test(x.id))!;
    expect(await (await functionFor(sweep.functionId)).invoke({})).toMatchObject({ aborted: 1 });
    expect(cloud.uploads.has('abandoned')).toBe(false);
    // What the signed URLs were used for: only the two tampered ones were refused, each as its session's own.
    const signed = cloud.s3Requests.filter((r) => r.includes(':assumed-role/'));
    expect(signed.filter((r) => r.endsWith('DENIED'))).toEqual([expect.stringMatching(/s3:PutObject .*acct_someoneelse/), expect.stringMatching(/s3:GetObject .*job_0another/)]);
    expect(signed.length).toBe(5);

    expectEveryRequestAllowed();
  });

  it('denies, as AWS would, what a policy does not grant', async () => {
    // The guard is no pass-through: a function's policy is evaluated, and an ungranted action is refused.
    const signup = deployed.get(region.routes().find((r) => r.routeKey === 'POST /v1/signup')!.functionId)!;
    const { evaluate } = await import('./guard');
    const table = tables[0];
    expect(await evaluate(signup.fn.roleArn, signup.fn.policies, 'dynamodb:DeleteTable', `arn:aws:dynamodb:${region.region}:123456789012:table/${table}`, {})).toBe(false);
  });

  it('reports the figures', async () => {
    hello = new DeployedFunction(
      { ...region.functions()[0]!, name: 'hello-world', assetHash: 'hello', handler: 'index.handler', environment: {}, policies: [] },
      join(REPO_ROOT, 'test', 'rehearsal'),
      { dynamodb: testDynamoEndpoint(), region: region.region },
    );
    await hello.start();
    expect((await hello.invoke({})).statusCode).toBe(200);
    const lines = [`rehearsal: ${((Date.now() - started) / 1000).toFixed(1)} s so far, node ${NODE22}`];
    for (const d of deployed.values()) {
      lines.push(`${d.fn.name}: requests ${d.log.requests}, denied ${d.log.denied.length}, init ${d.initMs.toFixed(0)} ms (${(d.initMs / hello.initMs).toFixed(1)}× hello-world's ${hello.initMs.toFixed(1)} ms)`);
    }
    console.log(lines.join('\n'));
  });
});

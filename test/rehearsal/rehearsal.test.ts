import { rm } from 'node:fs/promises';
import { CreateTableCommand, DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDynamoEndpoint } from '../support/dynamodb';
import { SYNTH_TIMEOUT_MS } from '../infra/cdk-app';
import { authorizerEvent, DeployedFunction, httpEvent, NODE22, synthesizeRegion } from './harness';
import type { Region } from './template';
import { join } from 'node:path';
import { REPO_ROOT } from '../../infra/cdk/bundling';

/**
 * The rehearsal: one region as CDK synthesizes it, its functions' bundles from the cloud assembly run
 * under Node.js 22 with the template's environment, their DynamoDB calls through a guard that applies
 * each function's synthesized IAM policy (docs/aws.md, "The rehearsal").
 */
describe('rehearsal of one synthesized region', () => {
  let root: string;
  let region: Region;
  let outdir: string;
  const deployed = new Map<string, DeployedFunction>();
  let client: DynamoDBClient;
  const tables: string[] = [];
  let hello: DeployedFunction;
  const started = Date.now();

  beforeAll(async () => {
    ({ root, outdir, region } = await synthesizeRegion());
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
  }, SYNTH_TIMEOUT_MS);

  afterAll(async () => {
    for (const d of deployed.values()) d.stop();
    hello?.stop();
    for (const t of tables) await client.send(new DeleteTableCommand({ TableName: t })).catch(() => {});
    client?.destroy();
    if (root) await rm(root, { recursive: true, force: true });
  });

  async function functionFor(logicalId: string) {
    let d = deployed.get(logicalId);
    if (!d) {
      const fn = region.functions().find((f) => f.logicalId === logicalId);
      if (!fn) throw new Error(`No function ${logicalId}`);
      d = new DeployedFunction(fn, outdir, { dynamodb: testDynamoEndpoint(), region: region.region });
      const ready = await d.start();
      expect(ready.node).toMatch(/^v22\./);
      expect(ready.hasHandler).toBe(true);
      deployed.set(logicalId, d);
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
      if (verdict.isAuthorized !== true) return { status: 403, body: { message: 'Forbidden' } };
      authorizer = { lambda: verdict.context ?? {} };
    }
    const fn = await functionFor(route.functionId);
    const res = await fn.invoke(httpEvent(routeKey, { path, body, headers, ...(authorizer ? { authorizer } : {}) }));
    if (res.statusCode >= 500) throw new Error(`${routeKey} answered ${res.statusCode}; the function logged:\n${fn.output}\nits DynamoDB calls: ${JSON.stringify(fn.log.decisions)}`);
    return { status: res.statusCode as number, body: res.body ? JSON.parse(res.body) : undefined };
  }

  it('deploys every function with a bundle from the cloud assembly and a role policy', () => {
    const fns = region.functions();
    expect(fns.length).toBeGreaterThanOrEqual(30);
    for (const f of fns) expect(f.policies.length, f.name).toBeGreaterThan(0);
  });

  it('signs up through the synthesized route, with every DynamoDB call allowed by the function policy', async () => {
    const res = await call('POST /v1/signup', '/v1/signup', { email: 'rehearsal@example.com' }, { 'idempotency-key': 'rehearsal-signup-1' });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const signup = deployed.get(region.routes().find((r) => r.routeKey === 'POST /v1/signup')!.functionId)!;
    expect(signup.log.requests).toBeGreaterThan(0);
    expect(signup.log.denied).toEqual([]);
  });

  it('submits, lists, reads and cancels a job through the authorizer, each function within its policy', async () => {
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

    const denied = [...deployed.values()].flatMap((d) => d.log.denied.map((x) => `${d.fn.name}: ${JSON.stringify(x)}`));
    expect(denied).toEqual([]);
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

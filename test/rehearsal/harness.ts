import { fork, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { ensureConsoleBuild } from '../../console/build';
import { buildApp } from '../../infra/cdk/build';
import { bundleDirOf, bundleHandlers, REPO_ROOT } from '../../infra/cdk/bundling';
import { loadDeploymentConfig } from '../../infra/cdk/regions';
import { handlerNames } from '../../infra/cdk/stateless-stack';
import { cdkContext } from '../infra/cdk-app';
import { Receiver } from '../support/webhook-receiver';
import { FUNCTION_ACCESS_KEY, startStandIns, type Cloud } from './stand-ins';
import { startDynamoGuard, type GuardLog } from './guard';
import { Region, type ResolvedFunction } from './template';

/** Node.js 22, the functions' runtime, from the `node` dev dependency. */
export const NODE22 = join(REPO_ROOT, 'node_modules', 'node', 'bin', 'node');
const RUNNER = join(REPO_ROOT, 'test', 'rehearsal', 'lambda-runner.mjs');

/** Bundles every handler, synthesizes one region with those bundles and reads its templates. */
export async function synthesizeRegion() {
  await mkdir(join(REPO_ROOT, '.build'), { recursive: true });
  const root = await mkdtemp(join(REPO_ROOT, '.build', 'rehearsal-'));
  const bundles = join(root, 'bundles');
  await bundleHandlers(handlerNames(), bundles);
  const config = loadDeploymentConfig();
  const region = config.regions[0]!.region;
  const { dir: consoleDir } = await ensureConsoleBuild();
  // The cloud assembly inside the repository, so the bundles' external AWS SDK resolves from
  // node_modules as the runtime provides it.
  const outdir = join(root, 'cdk.out');
  const app = new App({ context: cdkContext, outdir });
  const stacks = buildApp(app, config, { only: region, overrides: { consoleDir, codeFor: (h) => lambda.Code.fromAsset(bundleDirOf(h, bundles)) } })[region]!;
  app.synth();
  const read = async (name: string) => JSON.parse(await readFile(join(outdir, `${name}.template.json`), 'utf8'));
  // Every stack of the region: the stateful and stateless ones and each group of routes in its own.
  const named = { stateful: stacks.stateful, stateless: stacks.stateless, ...stacks.routes };
  const templates = Object.fromEntries(await Promise.all(Object.entries(named).map(async ([name, stack]) => [name, await read(stack.artifactId)] as const)));
  return { root, outdir, region: new Region(region, templates) };
}

/**
 * Hosts on the internet the rehearsal stands servers up for: `"<public ip>:<port>"` → the local port
 * that answers for it, and the PEM file of the CA its certificate chains to (lambda-runner.mjs).
 */
export interface Internet {
  hosts: Record<string, number>;
  caFile: string;
}

/**
 * A webhook receiver at a public address: the tests' receiver over HTTPS on this machine, with a
 * self-signed certificate for that address (openssl), and the route its deliveries go to.
 */
export async function startReceiver(dir: string, publicIp: string) {
  const key = join(dir, 'receiver-key.pem');
  const cert = join(dir, 'receiver-cert.pem');
  const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=rehearsal-receiver', '-addext', `subjectAltName=IP:${publicIp}`], { encoding: 'utf8' });
  if (made.status !== 0) throw new Error(`openssl could not make the receiver's certificate: ${made.stderr}`);
  const receiver = new Receiver({ key: await readFile(key), cert: await readFile(cert) });
  await receiver.start();
  const hook = receiver.route(() => ({ status: 204 }));
  return { url: `https://${publicIp}${hook.path}`, received: hook.got, internet: { hosts: { [`${publicIp}:443`]: receiver.port }, caFile: cert } satisfies Internet, close: () => receiver.close() };
}

/** One function deployed as a warm Lambda execution environment: its bundle under Node 22 with the template's environment. */
export class DeployedFunction {
  readonly log: GuardLog = { requests: 0, denied: [], decisions: [] };
  initMs = 0;
  invocations = 0;
  /** The tail of what the function logged. */
  output = '';
  private child?: ChildProcess;
  private pending = new Map<string, { resolve: (v: any) => void; reject: (e: Error) => void }>();
  private closers: (() => void)[] = [];

  constructor(
    readonly fn: ResolvedFunction,
    private readonly outdir: string,
    private readonly endpoints: { dynamodb: string; region: string; cloud?: Cloud; internet?: Internet },
  ) {}

  async start() {
    const guard = await startDynamoGuard({ upstream: this.endpoints.dynamodb, region: this.endpoints.region, principal: this.fn.roleArn, policies: this.fn.policies, log: this.log });
    this.closers.push(() => guard.server.close());
    const standIns = this.endpoints.cloud ? await startStandIns({ cloud: this.endpoints.cloud, principal: this.fn.roleArn, policies: this.fn.policies, log: this.log }) : undefined;
    if (standIns) this.closers.push(() => standIns.server.close());
    const [file, exportName] = this.fn.handler.split('.');
    // SQS clients send to the host of the queue URL they are given (`useQueueUrlAsEndpoint`), as DNS
    // would resolve it: the template's queue URLs point at the stand-in, as AWS's name would at SQS.
    const sqsHost = `https://sqs.${this.endpoints.region}.amazonaws.com`;
    const environment = Object.fromEntries(Object.entries(this.fn.environment).map(([k, v]) => [k, standIns ? String(v).replaceAll(sqsHost, standIns.endpoint) : v]));
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      ...environment,
      AWS_REGION: this.endpoints.region,
      AWS_DEFAULT_REGION: this.endpoints.region,
      AWS_LAMBDA_FUNCTION_NAME: this.fn.name,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(this.fn.memoryMb),
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
      AWS_ACCESS_KEY_ID: FUNCTION_ACCESS_KEY,
      AWS_SECRET_ACCESS_KEY: 'rehearsal',
      AWS_SESSION_TOKEN: 'rehearsal',
      AWS_ENDPOINT_URL_DYNAMODB: guard.endpoint,
      ...(standIns
        ? {
            AWS_ENDPOINT_URL_SQS: standIns.endpoint,
            AWS_ENDPOINT_URL_BATCH: standIns.endpoint,
            AWS_ENDPOINT_URL_SECRETS_MANAGER: standIns.endpoint,
            AWS_ENDPOINT_URL_S3: standIns.endpoint,
            AWS_ENDPOINT_URL_STS: standIns.endpoint,
            AWS_ENDPOINT_URL_CLOUDWATCH_LOGS: standIns.endpoint,
          }
        : {}),
      // Anything not stood in for is unreachable, so an unexpected call fails instead of leaving the machine.
      AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
      // The servers standing in for hosts on the internet (lambda-runner.mjs), and the CA their certificates are from.
      ...(this.endpoints.internet ? { SX_REHEARSAL_INTERNET: JSON.stringify(this.endpoints.internet.hosts), NODE_EXTRA_CA_CERTS: this.endpoints.internet.caFile } : {}),
    };
    const child = fork(RUNNER, [join(this.outdir, `asset.${this.fn.assetHash}`, `${file}.mjs`), exportName ?? 'handler'], {
      execPath: NODE22,
      env,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    this.child = child;
    // The function's own log lines (the last few kilobytes), for failure messages.
    child.stdout!.on('data', (d) => (this.output = (this.output + d).slice(-6000)));
    let stderr = '';
    child.stderr!.on('data', (d) => {
      stderr = (stderr + d).slice(-4000);
      this.output = (this.output + d).slice(-6000);
    });
    const ready = await new Promise<any>((resolve, reject) => {
      child.once('message', resolve);
      child.once('exit', (code) => reject(new Error(`${this.fn.name} exited during init (${code}): ${stderr}`)));
    });
    this.initMs = ready.initMs;
    child.on('message', (m: any) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.type === 'result') p.resolve(m.result);
      else p.reject(Object.assign(new Error(`${this.fn.name}: ${m.error.name}: ${m.error.message}`), { lambdaError: m.error }));
    });
    return ready as { initMs: number; node: string; hasHandler: boolean };
  }

  invoke(event: unknown): Promise<any> {
    const id = randomUUID();
    this.invocations++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child!.send({ id, event, timeoutMs: this.fn.timeoutSeconds * 1000 });
    });
  }

  stop() {
    this.child?.kill();
    this.closers.forEach((c) => c());
  }
}

/** An HTTP API (payload 2.0) event for a route, as API Gateway hands it to the integration. */
/** The event API Gateway gives a Lambda authorizer (payload format 2.0) for a request. */
export function authorizerEvent(routeKey: string, options: { path: string; headers?: Record<string, string> }) {
  const request = httpEvent(routeKey, options);
  return {
    version: '2.0',
    type: 'REQUEST',
    routeArn: `arn:aws:execute-api:us-east-1:123456789012:rehearsal/$default/${routeKey.replace(' ', '')}`,
    identitySource: [options.headers?.authorization ?? ''],
    routeKey,
    rawPath: request.rawPath,
    rawQueryString: '',
    headers: request.headers,
    requestContext: request.requestContext,
    ...('pathParameters' in request ? { pathParameters: request.pathParameters } : {}),
  };
}

export function httpEvent(routeKey: string, options: { path: string; body?: unknown; headers?: Record<string, string>; sourceIp?: string; authorizer?: unknown }) {
  const [method, template] = routeKey.split(' ') as [string, string];
  const body = options.body === undefined ? undefined : JSON.stringify(options.body);
  // Path parameters as API Gateway fills them from the route's template (`/v1/jobs/{id}`).
  const names = template.split('/');
  const values = options.path.split('/');
  const pathParameters = Object.fromEntries(names.flatMap((n, i) => (n.startsWith('{') ? [[n.slice(1, -1), values[i]!]] : [])));
  return {
    ...(Object.keys(pathParameters).length > 0 ? { pathParameters } : {}),
    version: '2.0',
    routeKey,
    rawPath: options.path,
    rawQueryString: '',
    headers: { 'content-type': 'application/json', ...(options.headers ?? {}) },
    requestContext: {
      accountId: '123456789012',
      apiId: 'rehearsal',
      domainName: 'api.example.com',
      http: { method, path: options.path, protocol: 'HTTP/1.1', sourceIp: options.sourceIp ?? '198.51.100.7', userAgent: 'rehearsal' },
      requestId: randomUUID(),
      routeKey,
      stage: '$default',
      time: new Date().toISOString(),
      timeEpoch: Date.now(),
      ...(options.authorizer ? { authorizer: options.authorizer } : {}),
    },
    ...(body !== undefined ? { body, isBase64Encoded: false } : {}),
  };
}

import { createHash, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { registerViolations, submitViolations } from '../support/batch-rules';
import { evaluate, type GuardLog } from './guard';
import { ACCOUNT } from './template';

/**
 * Recording stand-ins for the AWS services the functions call besides DynamoDB: SQS, AWS Batch,
 * Secrets Manager and S3's object reads (ListObjectsV2, GetObject, path-style), speaking each service's wire protocol to the functions' own SDK clients. Every
 * request is first evaluated against the calling function's synthesized policy (as the DynamoDB guard
 * does), then checked against the rules the service documents and we depend on; a broken rule is
 * answered as the service answers it (a ClientException or a validation error) and recorded.
 */

/** What the stand-ins were asked, for all functions of one rehearsal. */
export class Cloud {
  /** SQS messages by queue URL, in the order sent. */
  readonly queues = new Map<string, Array<{ body: string; groupId?: string; deduplicationId?: string; messageId: string }>>();
  /** Batch job definitions by name: the template's, from the stack, and those registered since. */
  readonly definitions = new Map<string, Array<Record<string, any>>>();
  /** Batch SubmitJob requests that were accepted, with the ids given and the job's state as Batch would describe it. */
  readonly submitted: Array<{ jobId: string; request: Record<string, any>; detail?: Record<string, any> }> = [];
  /** Compute environments by name (from the template), and the UpdateComputeEnvironment requests. */
  readonly computeEnvironments = new Map<string, Record<string, any>>();
  readonly updates: Array<Record<string, any>> = [];
  readonly terminated: Array<{ jobId: string; reason: string }> = [];
  /** S3 objects by `<bucket>/<key>`: what the nodes wrote (run reports). */
  readonly objects = new Map<string, string>();
  /** Requests refused for a service rule (not IAM), as readable lines. */
  readonly refused: string[] = [];

  constructor(
    readonly region: string,
    readonly secrets: Map<string, string>,
  ) {}

  /** A template job definition as `DescribeJobDefinitions` describes it (revision 1, ACTIVE). */
  addDefinition(definition: Record<string, any>) {
    const name = String(definition.jobDefinitionName);
    const arn = `arn:aws:batch:${this.region}:${ACCOUNT}:job-definition/${name}:1`;
    this.definitions.set(name, [{ ...definition, jobDefinitionArn: arn, revision: 1, status: 'ACTIVE' }]);
  }
}

/** CloudFormation's PascalCase properties as the service API's camelCase (`NodeProperties` → `nodeProperties`). */
export function apiShape(value: unknown, keysAreNames = false): any {
  if (Array.isArray(value)) return value.map((v) => apiShape(v));
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => {
      // Maps whose keys are data (tags, log options) keep their keys.
      const dataKeys = k === 'Tags' || k === 'Options' || k === 'Parameters';
      return [keysAreNames ? k : k.charAt(0).toLowerCase() + k.slice(1), dataKeys ? apiShape(v, true) : apiShape(v)];
    }),
  );
}

const JOB_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;
/** SubmitJob's container overrides may not pass 30 KiB (the ECS task override limit behind them). */
const MAX_OVERRIDES_BYTES = 30 * 1024;

/** One function's endpoint for SQS, Batch, Secrets Manager and S3 reads. */
export async function startStandIns(options: { cloud: Cloud; principal: string; policies: { name: string; policy: any }[]; log: GuardLog }): Promise<{ endpoint: string; server: Server }> {
  const { cloud } = options;
  const arn = (service: string, resource: string) => `arn:aws:${service}:${cloud.region}:${ACCOUNT}:${resource}`;
  const allowed = async (action: string, resource: string) => {
    const ok = await evaluate(options.principal, options.policies, action, resource, {});
    const decision = { action, resource, allowed: ok };
    options.log.decisions.push(decision);
    if (!ok) options.log.denied.push(decision);
    return ok;
  };

  async function sqs(target: string, body: any): Promise<[number, unknown]> {
    const queueUrl = String(body.QueueUrl ?? '');
    const queueArn = arn('sqs', queueUrl.split('/').pop()!);
    if (!(await allowed('sqs:SendMessage', queueArn))) return [400, { __type: 'com.amazonaws.sqs#AccessDenied', message: `not authorized to perform sqs:SendMessage on ${queueArn}` }];
    const entries: any[] = target === 'AmazonSQS.SendMessageBatch' ? body.Entries : [{ Id: '0', ...body }];
    const fifo = queueUrl.endsWith('.fifo');
    const bytes = entries.reduce((sum, e) => sum + Buffer.byteLength(String(e.MessageBody)), 0);
    const problem =
      entries.length > 10 ? 'AWS.SimpleQueueService.TooManyEntriesInBatchRequest' : bytes > 256 * 1024 ? 'AWS.SimpleQueueService.BatchRequestTooLong' : fifo && entries.some((e) => !e.MessageGroupId) ? 'MissingParameter' : null;
    if (problem) {
      cloud.refused.push(`SQS ${target} to ${queueUrl}: ${problem}`);
      return [400, { __type: `com.amazonaws.sqs#${problem}`, message: problem }];
    }
    const list = cloud.queues.get(queueUrl) ?? [];
    cloud.queues.set(queueUrl, list);
    const successful = entries.map((e) => {
      const messageId = randomUUID();
      list.push({ body: String(e.MessageBody), groupId: e.MessageGroupId, deduplicationId: e.MessageDeduplicationId, messageId });
      return { Id: e.Id, MessageId: messageId, MD5OfMessageBody: createHash('md5').update(String(e.MessageBody)).digest('hex') };
    });
    return [200, target === 'AmazonSQS.SendMessageBatch' ? { Successful: successful, Failed: [] } : { MessageId: successful[0]!.MessageId, MD5OfMessageBody: successful[0]!.MD5OfMessageBody }];
  }

  async function secretsManager(target: string, body: any): Promise<[number, unknown]> {
    if (target !== 'secretsmanager.GetSecretValue') return [400, { __type: 'UnsupportedOperation', message: `${target} is not stood in for` }];
    const id = String(body.SecretId);
    if (!(await allowed('secretsmanager:GetSecretValue', id))) return [400, { __type: 'AccessDeniedException', Message: `not authorized to perform secretsmanager:GetSecretValue on ${id}` }];
    const value = cloud.secrets.get(id);
    if (value === undefined) return [400, { __type: 'ResourceNotFoundException', Message: `Secrets Manager can't find the specified secret ${id}` }];
    return [200, { ARN: id, Name: id.split(':').pop(), SecretString: value, VersionId: 'rehearsal' }];
  }

  const clientError = (message: string): [number, unknown] => {
    cloud.refused.push(`Batch: ${message}`);
    return [400, { __type: 'ClientException', message }];
  };
  const definitionOf = (ref: string) => {
    // A name, name:revision or ARN.
    const tail = ref.split('/').pop()!;
    const [name, revision] = tail.split(':');
    const revisions = cloud.definitions.get(name!) ?? [];
    return revision ? revisions.find((d) => String(d.revision) === revision) : revisions.at(-1);
  };

  async function batch(path: string, body: any): Promise<[number, unknown]> {
    const denied = (action: string, resource: string): [number, unknown] => [403, { __type: 'AccessDeniedException', message: `not authorized to perform ${action} on ${resource}` }];
    switch (path) {
      case '/v1/listjobs': {
        if (!(await allowed('batch:ListJobs', '*'))) return denied('batch:ListJobs', '*');
        const name = body.filters?.find((f: any) => f.name === 'JOB_NAME')?.values?.[0];
        const found = cloud.submitted.filter((s) => s.request.jobName === name && (s.request.jobQueue === body.jobQueue || String(s.request.jobQueue).endsWith(`/${body.jobQueue}`)));
        return [200, { jobSummaryList: found.map((s) => ({ jobId: s.jobId, jobName: s.request.jobName, jobArn: arn('batch', `job/${s.jobId}`), status: 'SUBMITTED', createdAt: Date.now() })) }];
      }
      case '/v1/describejobdefinitions': {
        if (!(await allowed('batch:DescribeJobDefinitions', '*'))) return denied('batch:DescribeJobDefinitions', '*');
        const refs: string[] = body.jobDefinitions ?? (body.jobDefinitionName ? [body.jobDefinitionName] : []);
        const found = body.jobDefinitionName ? (cloud.definitions.get(body.jobDefinitionName) ?? []) : refs.map(definitionOf).filter(Boolean);
        return [200, { jobDefinitions: found }];
      }
      case '/v1/registerjobdefinition': {
        const name = String(body.jobDefinitionName);
        const resource = arn('batch', `job-definition/${name}`);
        if (!(await allowed('batch:RegisterJobDefinition', resource))) return denied('batch:RegisterJobDefinition', resource);
        // Tags on create also need batch:TagResource under `batch:CreateAction`, a condition key the
        // simulator's data does not have (it ignores it and denies): not evaluated here; the CDK
        // tests pin that grant (test/infra).
        if (!JOB_NAME.test(name)) return clientError(`jobDefinitionName ${name} does not match ${JOB_NAME}`);
        if (body.type === 'multinode') {
          const problems = registerViolations(body.nodeProperties);
          if (problems.length > 0) return clientError(problems.join('; '));
        }
        const revisions = cloud.definitions.get(name) ?? [];
        const revision = revisions.length + 1;
        const jobDefinitionArn = arn('batch', `job-definition/${name}:${revision}`);
        revisions.push({ ...body, jobDefinitionArn, revision, status: 'ACTIVE' });
        cloud.definitions.set(name, revisions);
        return [200, { jobDefinitionName: name, jobDefinitionArn, revision }];
      }
      case '/v1/submitjob': {
        const definition = definitionOf(String(body.jobDefinition));
        const queueArn = String(body.jobQueue).startsWith('arn:') ? String(body.jobQueue) : arn('batch', `job-queue/${body.jobQueue}`);
        const definitionArn = String(definition?.jobDefinitionArn ?? body.jobDefinition);
        for (const resource of [queueArn, definitionArn]) if (!(await allowed('batch:SubmitJob', resource))) return denied('batch:SubmitJob', resource);
        if (!definition) return clientError(`Job definition ${body.jobDefinition} not found`);
        const jobId = randomUUID();
        if (!JOB_NAME.test(String(body.jobName))) return clientError(`jobName ${body.jobName} does not match ${JOB_NAME}`);
        if (body.timeout?.attemptDurationSeconds !== undefined && body.timeout.attemptDurationSeconds < 60) return clientError('timeout.attemptDurationSeconds must be at least 60');
        if (Object.keys(body.tags ?? {}).length > 50) return clientError('at most 50 tags');
        const overrides = JSON.stringify(body.containerOverrides ?? body.nodeOverrides ?? {});
        if (Buffer.byteLength(overrides) > MAX_OVERRIDES_BYTES) return clientError(`overrides of ${Buffer.byteLength(overrides)} bytes pass ${MAX_OVERRIDES_BYTES}`);
        if (definition.type === 'multinode' || body.nodeOverrides) {
          const problems = submitViolations(definition.nodeProperties, body.nodeOverrides);
          if (problems.length > 0) return clientError(problems.join('; '));
        }
        cloud.submitted.push({ jobId, request: body });
        return [200, { jobId, jobName: body.jobName, jobArn: arn('batch', `job/${jobId}`) }];
      }
      case '/v1/describejobs': {
        if (!(await allowed('batch:DescribeJobs', '*'))) return denied('batch:DescribeJobs', '*');
        if ((body.jobs ?? []).length > 100) return clientError('at most 100 jobs per DescribeJobs');
        const jobs = cloud.submitted
          .filter((s) => body.jobs.includes(s.jobId))
          .map((s) => ({ jobName: s.request.jobName, jobId: s.jobId, jobQueue: s.request.jobQueue, status: 'SUBMITTED', createdAt: Date.now(), attempts: [], ...s.detail }));
        return [200, { jobs }];
      }
      case '/v1/describecomputeenvironments': {
        if (!(await allowed('batch:DescribeComputeEnvironments', '*'))) return denied('batch:DescribeComputeEnvironments', '*');
        const names: string[] = body.computeEnvironments ?? [...cloud.computeEnvironments.keys()];
        return [200, { computeEnvironments: names.map((n) => cloud.computeEnvironments.get(n.split('/').pop()!)).filter(Boolean) }];
      }
      case '/v1/updatecomputeenvironment': {
        const name = String(body.computeEnvironment).split('/').pop()!;
        const resource = arn('batch', `compute-environment/${name}`);
        if (!(await allowed('batch:UpdateComputeEnvironment', resource))) return denied('batch:UpdateComputeEnvironment', resource);
        const ce = cloud.computeEnvironments.get(name);
        if (!ce) return clientError(`Compute environment ${name} not found`);
        const { minvCpus, desiredvCpus, maxvCpus = ce.computeResources.maxvCpus } = body.computeResources ?? {};
        if (minvCpus !== undefined && minvCpus > maxvCpus) return clientError(`minvCpus ${minvCpus} is above maxvCpus ${maxvCpus}`);
        if (desiredvCpus !== undefined && (desiredvCpus > maxvCpus || desiredvCpus < (minvCpus ?? ce.computeResources.minvCpus ?? 0))) return clientError(`desiredvCpus ${desiredvCpus} is outside its bounds`);
        cloud.updates.push(body);
        ce.computeResources = { ...ce.computeResources, ...body.computeResources };
        return [200, { computeEnvironmentName: name, computeEnvironmentArn: resource }];
      }
      case '/v1/terminatejob': {
        const resource = arn('batch', `job/${body.jobId}`);
        if (!(await allowed('batch:TerminateJob', resource))) return denied('batch:TerminateJob', resource);
        if (String(body.reason ?? '').length === 0) return clientError('reason is required');
        cloud.terminated.push({ jobId: String(body.jobId), reason: String(body.reason) });
        return [200, {}];
      }
      default:
        return [400, { __type: 'ClientException', message: `${path} is not stood in for` }];
    }
  }

  /** S3 reads: `GET /<bucket>?list-type=2&prefix=` and `GET /<bucket>/<key>`, answered in S3's XML. */
  async function s3(url: URL): Promise<[number, string]> {
    const [bucket = '', ...rest] = url.pathname.slice(1).split('/');
    const key = decodeURIComponent(rest.join('/'));
    const error = (status: number, code: string) => [status, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${code}</Message></Error>`] as [number, string];
    if (url.searchParams.get('list-type') === '2') {
      const prefix = url.searchParams.get('prefix') ?? '';
      const ok = await evaluate(options.principal, options.policies, 's3:ListBucket', `arn:aws:s3:::${bucket}`, { 's3:prefix': prefix });
      options.log.decisions.push({ action: 's3:ListBucket', resource: `arn:aws:s3:::${bucket}`, allowed: ok });
      if (!ok) {
        options.log.denied.push({ action: 's3:ListBucket', resource: `arn:aws:s3:::${bucket}?prefix=${prefix}`, allowed: false });
        return error(403, 'AccessDenied');
      }
      const keys = [...cloud.objects.keys()].filter((k) => k.startsWith(`${bucket}/${prefix}`)).map((k) => k.slice(bucket.length + 1)).sort();
      const contents = keys.map((k) => `<Contents><Key>${k}</Key><Size>${Buffer.byteLength(cloud.objects.get(`${bucket}/${k}`)!)}</Size></Contents>`).join('');
      return [200, `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>${bucket}</Name><Prefix>${prefix}</Prefix><KeyCount>${keys.length}</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>${contents}</ListBucketResult>`];
    }
    if (!(await allowed('s3:GetObject', `arn:aws:s3:::${bucket}/${key}`))) return error(403, 'AccessDenied');
    const body = cloud.objects.get(`${bucket}/${key}`);
    return body === undefined ? error(404, 'NoSuchKey') : [200, body];
  }

  const server = createServer((req, res) => {
    if (req.method === 'GET' && !String(req.url).startsWith('/v1/')) {
      options.log.requests++;
      void s3(new URL(String(req.url), 'http://stand-in')).then(([status, body]) => {
        res.writeHead(status, { 'content-type': 'application/xml', 'x-amz-request-id': randomUUID() });
        res.end(body);
      });
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      options.log.requests++;
      const raw = Buffer.concat(chunks).toString('utf8');
      const target = String(req.headers['x-amz-target'] ?? '');
      let status: number;
      let answer: unknown;
      try {
        const body = raw ? JSON.parse(raw) : {};
        [status, answer] = target.startsWith('AmazonSQS.') ? await sqs(target, body) : target.startsWith('secretsmanager.') ? await secretsManager(target, body) : await batch(String(req.url).split('?')[0]!, body);
      } catch (error) {
        [status, answer] = [500, { __type: 'InternalFailure', message: String(error) }];
      }
      const type = target.startsWith('AmazonSQS.') ? 'application/x-amz-json-1.0' : target ? 'application/x-amz-json-1.1' : 'application/json';
      const errorType = status >= 400 ? { 'x-amzn-errortype': String((answer as { __type?: string }).__type ?? '').split('#').pop() } : {};
      res.writeHead(status, { 'content-type': type, 'x-amzn-requestid': randomUUID(), ...errorType });
      res.end(JSON.stringify(answer));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

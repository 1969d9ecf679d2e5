import { createHash, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { registerViolations, submitViolations } from '../support/batch-rules';
import { evaluate, type GuardLog } from './guard';
import { ACCOUNT } from './template';

/**
 * Recording stand-ins for the AWS services the functions call besides DynamoDB: SQS, AWS Batch,
 * Secrets Manager, CloudWatch Logs (GetLogEvents), STS (AssumeRole) and S3 (objects and multipart uploads, path-style, also through
 * presigned URLs), speaking each service's wire protocol to the functions' own SDK clients. Every
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
  /** S3 objects by `<bucket>/<key>`: what the nodes wrote (run reports, outputs) and what customers uploaded. */
  readonly objects = new Map<string, string | Buffer>();
  /** Open multipart uploads by upload id. */
  readonly uploads = new Map<string, { bucket: string; key: string; initiated: string; parts: Map<number, { etag: string; body: Buffer }> }>();
  /** The region's roles (from the templates), which STS sessions are of. */
  roles = new Map<string, { policies: { name: string; policy: any }[]; maxSessionSeconds: number }>();
  /** STS sessions by access key id: the role, its session policy and when it ends. */
  readonly sessions = new Map<string, { roleArn: string; principal: string; sessionPolicy?: any; expiresAt: number }>();
  /** CloudWatch Logs events by `<log group>:<log stream>`: what the jobs' containers logged. */
  readonly logs = new Map<string, Array<{ timestamp: number; message: string }>>();
  /** Every S3 request answered, as `<principal> <action> <resource>`, for what a URL was used for. */
  readonly s3Requests: string[] = [];
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
/**
 * The IAM action a path-style S3 request is authorized as, its resource, and the condition keys S3 puts
 * in its context: `s3:prefix` for ListBucket only (ListBucketMultipartUploads has none).
 */
function s3Action(method: string, bucket: string, key: string, q: URLSearchParams): { action: string; resource: string; context: Record<string, string> } {
  if (key === '') {
    return q.has('uploads')
      ? { action: 's3:ListBucketMultipartUploads', resource: `arn:aws:s3:::${bucket}`, context: {} }
      : { action: 's3:ListBucket', resource: `arn:aws:s3:::${bucket}`, context: { 's3:prefix': q.get('prefix') ?? '' } };
  }
  const on = (action: string) => ({ action, resource: `arn:aws:s3:::${bucket}/${key}`, context: {} });
  // CreateMultipartUpload, UploadPart, CompleteMultipartUpload and PutObject are all s3:PutObject.
  if (method === 'POST' || method === 'PUT') return on('s3:PutObject');
  if (method === 'DELETE') return on(q.has('uploadId') ? 's3:AbortMultipartUpload' : 's3:DeleteObject');
  return on(q.has('uploadId') ? 's3:ListMultipartUploadParts' : 's3:GetObject');
}

/** The access key id every function runs with in the rehearsal (harness.ts). */
export const FUNCTION_ACCESS_KEY = 'ASIAREHEARSAL';
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

  /**
   * CloudWatch Logs GetLogEvents: at most 10,000 events or 1 MB a page, and at the end of a stream the
   * forward token comes back unchanged (what readers stop on); an unknown stream is ResourceNotFoundException.
   */
  async function cloudWatchLogs(target: string, body: any): Promise<[number, unknown]> {
    if (target !== 'Logs_20140328.GetLogEvents') return [400, { __type: 'UnsupportedOperation', message: `${target} is not stood in for` }];
    const group = String(body.logGroupName ?? '');
    const stream = String(body.logStreamName ?? '');
    const resource = arn('logs', `log-group:${group}:log-stream:${stream}`);
    if (!(await allowed('logs:GetLogEvents', resource))) return [400, { __type: 'AccessDeniedException', message: `not authorized to perform logs:GetLogEvents on ${resource}` }];
    const limit = body.limit ?? 10_000;
    if (!(Number.isInteger(limit) && limit >= 1 && limit <= 10_000)) {
      cloud.refused.push(`CloudWatch Logs: limit ${limit} is outside 1–10000`);
      return [400, { __type: 'InvalidParameterException', message: 'limit must be between 1 and 10000' }];
    }
    const events = cloud.logs.get(`${group}:${stream}`);
    if (!events) return [400, { __type: 'ResourceNotFoundException', message: 'The specified log stream does not exist.' }];
    const from = body.nextToken ? Number(String(body.nextToken).slice(2)) : 0;
    const page: typeof events = [];
    let bytes = 0;
    for (const event of events.slice(from, from + limit)) {
      bytes += Buffer.byteLength(event.message) + 26;
      if (bytes > 1_048_576) break;
      page.push(event);
    }
    const token = `f/${String(from + page.length).padStart(20, '0')}`;
    return [200, { events: page.map((e) => ({ ...e, ingestionTime: e.timestamp })), nextForwardToken: token, nextBackwardToken: `b/${String(from).padStart(20, '0')}` }];
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

  /**
   * STS AssumeRole (query protocol): the caller needs sts:AssumeRole on the role; STS's rules for a
   * session of a role assumed by a role (role chaining: at most 1 h, and no longer than the role's
   * maximum), the session name's pattern and the packed session policy's size.
   */
  async function sts(form: URLSearchParams): Promise<[number, string]> {
    const error = (status: number, code: string, message: string): [number, string] => {
      if (code !== 'AccessDenied') cloud.refused.push(`STS: ${message}`);
      return [status, `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`];
    };
    if (form.get('Action') !== 'AssumeRole') return error(400, 'InvalidAction', `${form.get('Action')} is not stood in for`);
    const roleArn = String(form.get('RoleArn'));
    if (!(await allowed('sts:AssumeRole', roleArn))) return error(403, 'AccessDenied', `not authorized to perform sts:AssumeRole on ${roleArn}`);
    const role = cloud.roles.get(roleArn);
    if (!role) return error(400, 'NoSuchEntity', `role ${roleArn} does not exist`);
    const sessionName = String(form.get('RoleSessionName'));
    if (!/^[\w+=,.@-]{2,64}$/.test(sessionName)) return error(400, 'ValidationError', `RoleSessionName ${sessionName} does not match [\\w+=,.@-]{2,64}`);
    const seconds = Number(form.get('DurationSeconds') ?? 3600);
    // The caller is itself a role session (a function): role chaining caps the session at one hour.
    if (!(seconds >= 900 && seconds <= Math.min(3600, role.maxSessionSeconds))) return error(400, 'ValidationError', `DurationSeconds ${seconds} is outside 900–${Math.min(3600, role.maxSessionSeconds)} for a chained role session`);
    const policy = form.get('Policy');
    if (policy !== null && JSON.stringify(JSON.parse(policy)).length > 2048) return error(400, 'PackedPolicyTooLarge', 'the session policy is over 2,048 characters');
    const accessKeyId = `ASIA${randomUUID().replace(/-/g, '').slice(0, 16).toUpperCase()}`;
    const expiresAt = Date.now() + seconds * 1000;
    const principal = `arn:aws:sts::${ACCOUNT}:assumed-role/${roleArn.split('/').pop()}/${sessionName}`;
    cloud.sessions.set(accessKeyId, { roleArn, principal, ...(policy !== null ? { sessionPolicy: JSON.parse(policy) } : {}), expiresAt });
    return [
      200,
      `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials><AccessKeyId>${accessKeyId}</AccessKeyId><SecretAccessKey>rehearsal-${accessKeyId}</SecretAccessKey><SessionToken>token-${accessKeyId}</SessionToken><Expiration>${new Date(expiresAt).toISOString()}</Expiration></Credentials><AssumedRoleUser><AssumedRoleId>AROAREHEARSAL:${sessionName}</AssumedRoleId><Arn>${principal}</Arn></AssumedRoleUser></AssumeRoleResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></AssumeRoleResponse>`,
    ];
  }

  /**
   * S3, path-style (`/<bucket>/<key>?…`): objects, listings and multipart uploads. A request is made by
   * the function (its own credentials) or through a presigned URL or client of an STS session, whose
   * role's policies and session policy are evaluated instead; a presigned URL may not outlive its
   * session. S3's rules we depend on: every part but the last at least 5 MiB, parts completed in order
   * with their ETags.
   */
  async function s3(method: string, url: URL, headers: Record<string, string | string[] | undefined>, body: Buffer): Promise<[number, string | Buffer, Record<string, string>]> {
    const [bucket = '', ...rest] = url.pathname.slice(1).split('/');
    const key = decodeURIComponent(rest.join('/'));
    const q = url.searchParams;
    const xml = (text: string): [number, string, Record<string, string>] => [200, `<?xml version="1.0" encoding="UTF-8"?>${text}`, { 'content-type': 'application/xml' }];
    const error = (status: number, code: string, message = code): [number, string, Record<string, string>] => {
      if (!['AccessDenied', 'NoSuchKey', 'NoSuchUpload'].includes(code)) cloud.refused.push(`S3 ${method} ${url.pathname}: ${message}`);
      return [status, method === 'HEAD' ? '' : `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`, { 'content-type': 'application/xml' }];
    };
    const { action, resource, context } = s3Action(method, bucket, key, q);

    // Who asks: the function itself, or a session STS handed out (its presigned URL or its client).
    const credential = q.get('X-Amz-Credential') ?? /Credential=([^,\s]+)/.exec(String(headers.authorization ?? ''))?.[1] ?? '';
    const accessKeyId = credential.split('/')[0] ?? '';
    const session = cloud.sessions.get(accessKeyId);
    if (q.has('X-Amz-Expires')) {
      const signedAt = Date.parse(String(q.get('X-Amz-Date')).replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'));
      const expiresAt = signedAt + Number(q.get('X-Amz-Expires')) * 1000;
      if (Number(q.get('X-Amz-Expires')) > 604_800) return error(400, 'AuthorizationQueryParametersError', 'X-Amz-Expires must be at most 604800 seconds');
      if (session && expiresAt > session.expiresAt + 1000) return error(400, 'InvalidRequest', `the URL outlives its session by ${Math.round((expiresAt - session.expiresAt) / 1000)} s`);
      if (expiresAt < Date.now()) return error(403, 'AccessDenied', 'Request has expired');
    }
    const who = session ? session.principal : options.principal;
    let ok: boolean;
    if (session) {
      const role = cloud.roles.get(session.roleArn);
      ok = !!role && (await evaluate(session.principal, role.policies, action, resource, context, session.sessionPolicy));
    } else if (accessKeyId === FUNCTION_ACCESS_KEY) {
      ok = await evaluate(options.principal, options.policies, action, resource, context);
    } else {
      return error(403, 'InvalidAccessKeyId', `The AWS access key id ${accessKeyId} does not exist in our records`);
    }
    const decision = { action, resource: `${resource}${key === '' ? `?prefix=${q.get('prefix') ?? ''}` : ''}`, allowed: ok };
    cloud.s3Requests.push(`${who} ${action} ${decision.resource}${ok ? '' : ' DENIED'}`);
    // The function's own calls are its record; a URL's use is its holder's (the customer's).
    if (!session) {
      options.log.decisions.push(decision);
      if (!ok) options.log.denied.push(decision);
    }
    if (!ok) return error(403, 'AccessDenied');

    const etagOf = (bytes: Buffer) => `"${createHash('md5').update(bytes).digest('hex')}"`;
    if (key === '' && q.has('uploads')) {
      const prefix = q.get('prefix') ?? '';
      const open = [...cloud.uploads].filter(([, u]) => u.bucket === bucket && u.key.startsWith(prefix));
      return xml(
        `<ListMultipartUploadsResult><Bucket>${bucket}</Bucket><KeyMarker></KeyMarker><UploadIdMarker></UploadIdMarker><Prefix>${prefix}</Prefix><MaxUploads>1000</MaxUploads><IsTruncated>false</IsTruncated>${open.map(([id, u]) => `<Upload><Key>${u.key}</Key><UploadId>${id}</UploadId><Initiated>${u.initiated}</Initiated></Upload>`).join('')}</ListMultipartUploadsResult>`,
      );
    }
    if (key === '') {
      const prefix = q.get('prefix') ?? '';
      const keys = [...cloud.objects.keys()].filter((k) => k.startsWith(`${bucket}/${prefix}`)).map((k) => k.slice(bucket.length + 1)).sort();
      const contents = keys.map((k) => `<Contents><Key>${k}</Key><Size>${Buffer.byteLength(cloud.objects.get(`${bucket}/${k}`)!)}</Size><LastModified>${new Date().toISOString()}</LastModified></Contents>`).join('');
      return xml(`<ListBucketResult><Name>${bucket}</Name><Prefix>${prefix}</Prefix><KeyCount>${keys.length}</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>${contents}</ListBucketResult>`);
    }
    if (method === 'POST' && q.has('uploads')) {
      const uploadId = randomUUID().replace(/-/g, '');
      cloud.uploads.set(uploadId, { bucket, key, initiated: new Date().toISOString(), parts: new Map() });
      return xml(`<InitiateMultipartUploadResult><Bucket>${bucket}</Bucket><Key>${key}</Key><UploadId>${uploadId}</UploadId></InitiateMultipartUploadResult>`);
    }
    const upload = q.has('uploadId') ? cloud.uploads.get(String(q.get('uploadId'))) : undefined;
    if (q.has('uploadId') && (!upload || upload.key !== key || upload.bucket !== bucket)) return error(404, 'NoSuchUpload', 'The specified upload does not exist');
    if (method === 'PUT' && upload) {
      const partNumber = Number(q.get('partNumber'));
      if (!(Number.isInteger(partNumber) && partNumber >= 1 && partNumber <= 10_000)) return error(400, 'InvalidArgument', 'Part number must be an integer between 1 and 10000');
      const etag = etagOf(body);
      upload.parts.set(partNumber, { etag, body });
      return [200, '', { etag }];
    }
    if (method === 'GET' && upload) {
      const parts = [...upload.parts].sort(([a], [b]) => a - b);
      return xml(`<ListPartsResult><Bucket>${bucket}</Bucket><Key>${key}</Key><UploadId>${q.get('uploadId')}</UploadId><IsTruncated>false</IsTruncated>${parts.map(([n, p]) => `<Part><PartNumber>${n}</PartNumber><ETag>${p.etag}</ETag><Size>${p.body.length}</Size><LastModified>${upload.initiated}</LastModified></Part>`).join('')}</ListPartsResult>`);
    }
    if (method === 'POST' && upload) {
      const listed = [...body.toString('utf8').matchAll(/<Part>\s*(?:<ETag>([^<]*)<\/ETag>\s*<PartNumber>(\d+)<\/PartNumber>|<PartNumber>(\d+)<\/PartNumber>\s*<ETag>([^<]*)<\/ETag>)/g)].map((m) => ({ n: Number(m[2] ?? m[3]), etag: (m[1] ?? m[4] ?? '').replace(/&quot;/g, '"') }));
      if (listed.length === 0) return error(400, 'MalformedXML', 'no parts listed');
      for (let i = 0; i < listed.length; i++) {
        const { n, etag } = listed[i]!;
        const part = upload.parts.get(n);
        if (i > 0 && n <= listed[i - 1]!.n) return error(400, 'InvalidPartOrder', 'The list of parts was not in ascending order');
        if (!part || part.etag.replace(/"/g, '') !== etag.replace(/"/g, '')) return error(400, 'InvalidPart', `part ${n} was not uploaded or its ETag differs`);
        if (i < listed.length - 1 && part.body.length < 5 * 1024 * 1024) return error(400, 'EntityTooSmall', `part ${n} is ${part.body.length} bytes, under 5 MiB and not the last`);
      }
      const bytes = Buffer.concat(listed.map(({ n }) => upload.parts.get(n)!.body));
      cloud.objects.set(`${bucket}/${key}`, bytes);
      cloud.uploads.delete(String(q.get('uploadId')));
      return xml(`<CompleteMultipartUploadResult><Bucket>${bucket}</Bucket><Key>${key}</Key><ETag>"${createHash('md5').update(bytes).digest('hex')}-${listed.length}"</ETag></CompleteMultipartUploadResult>`);
    }
    if (method === 'DELETE' && upload) {
      cloud.uploads.delete(String(q.get('uploadId')));
      return [204, '', {}];
    }
    if (method === 'PUT') {
      cloud.objects.set(`${bucket}/${key}`, body);
      return [200, '', { etag: etagOf(body) }];
    }
    if (method === 'DELETE') {
      cloud.objects.delete(`${bucket}/${key}`);
      return [204, '', {}];
    }
    const stored = cloud.objects.get(`${bucket}/${key}`);
    if (stored === undefined) return error(404, 'NoSuchKey', 'The specified key does not exist.');
    const bytes = Buffer.from(stored);
    const meta = { etag: etagOf(bytes), 'last-modified': new Date().toUTCString(), 'content-type': 'application/octet-stream' };
    const range = /^bytes=(\d+)-(\d*)$/.exec(String(headers.range ?? ''));
    if (range && method === 'GET') {
      const start = Number(range[1]);
      const end = Math.min(bytes.length - 1, range[2] ? Number(range[2]) : bytes.length - 1);
      if (start >= bytes.length) return error(416, 'InvalidRange', 'The requested range is not satisfiable');
      const slice = bytes.subarray(start, end + 1);
      return [206, slice, { ...meta, 'content-length': String(slice.length), 'content-range': `bytes ${start}-${end}/${bytes.length}` }];
    }
    return [200, method === 'HEAD' ? '' : bytes, { ...meta, 'content-length': String(bytes.length) }];
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      options.log.requests++;
      const raw = Buffer.concat(chunks);
      const target = String(req.headers['x-amz-target'] ?? '');
      const url = new URL(String(req.url), 'http://stand-in');
      const method = String(req.method);
      try {
        // STS's query protocol: a form POSTed to `/`.
        if (!target && method === 'POST' && url.pathname === '/' && raw.toString('utf8').startsWith('Action=')) {
          const [status, text] = await sts(new URLSearchParams(raw.toString('utf8')));
          res.writeHead(status, { 'content-type': 'text/xml', 'x-amzn-requestid': randomUUID() });
          res.end(text);
          return;
        }
        if (!target && !url.pathname.startsWith('/v1/')) {
          const [status, text, headers] = await s3(method, url, req.headers, raw);
          res.writeHead(status, { 'x-amz-request-id': randomUUID(), ...headers });
          res.end(text);
          return;
        }
      } catch (error) {
        res.writeHead(500, { 'content-type': 'application/xml' });
        res.end(`<Error><Code>InternalError</Code><Message>${String(error)}</Message></Error>`);
        return;
      }
      let status: number;
      let answer: unknown;
      try {
        const body = raw.length ? JSON.parse(raw.toString('utf8')) : {};
        [status, answer] = target.startsWith('AmazonSQS.')
          ? await sqs(target, body)
          : target.startsWith('secretsmanager.')
            ? await secretsManager(target, body)
            : target.startsWith('Logs_20140328.')
              ? await cloudWatchLogs(target, body)
              : await batch(url.pathname, body);
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

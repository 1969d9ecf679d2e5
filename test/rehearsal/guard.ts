import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { ACCOUNT } from './template';

export interface Decision {
  action: string;
  resource: string;
  allowed: boolean;
}

/** Per function: what its SDK asked for and what IAM answered. */
export interface GuardLog {
  requests: number;
  denied: Decision[];
  decisions: Decision[];
}

/** The items' partition keys a DynamoDB request touches (for `dynamodb:LeadingKeys`). */
function leadingKeys(body: any): string[] {
  const keys = new Set<string>();
  const add = (item: any) => item?.pk?.S !== undefined && keys.add(item.pk.S);
  add(body.Key);
  add(body.Item);
  for (const v of Object.values(body.ExpressionAttributeValues ?? {}) as any[]) {
    // Query: the partition key's value is among the expression's values when the condition names pk.
    if (body.KeyConditionExpression && /\bpk\b|#pk/.test(body.KeyConditionExpression) && v?.S !== undefined && Object.keys(body.ExpressionAttributeValues).length === 1) keys.add(v.S);
  }
  return [...keys];
}

/** The (action, table resource, context) triples one DynamoDB JSON request asks IAM for. */
function dynamoRequests(target: string, body: any, region: string) {
  const action = `dynamodb:${target.split('.')[1]}`;
  const arn = (table: string, index?: string) => `arn:aws:dynamodb:${region}:${ACCOUNT}:table/${table}${index ? `/index/${index}` : ''}`;
  const out: { action: string; resource: string; context: Record<string, string | string[]> }[] = [];
  const ctx = (b: any): Record<string, string | string[]> => {
    const lk = leadingKeys(b);
    return lk.length ? { 'dynamodb:LeadingKeys': lk } : {};
  };
  if (body.TableName) out.push({ action, resource: arn(body.TableName, body.IndexName), context: ctx(body) });
  if (body.RequestItems) {
    for (const [table, items] of Object.entries<any>(body.RequestItems)) {
      const list = Array.isArray(items) ? items : items.Keys;
      if (Array.isArray(items)) {
        for (const w of list) {
          const a = w.PutRequest ? 'dynamodb:PutItem' : 'dynamodb:DeleteItem';
          out.push({ action: action === 'dynamodb:BatchWriteItem' ? action : a, resource: arn(table), context: ctx(w.PutRequest ? { Item: w.PutRequest.Item } : { Key: w.DeleteRequest.Key }) });
        }
      } else {
        for (const k of list) out.push({ action, resource: arn(table), context: ctx({ Key: k }) });
      }
    }
  }
  for (const t of body.TransactItems ?? []) {
    const [kind, op] = Object.entries<any>(t)[0]!;
    const a = { Put: 'PutItem', Update: 'UpdateItem', Delete: 'DeleteItem', ConditionCheck: 'ConditionCheckItem', Get: 'GetItem' }[kind as string];
    out.push({ action: `dynamodb:${a}`, resource: arn(op.TableName), context: ctx(op) });
  }
  return out;
}

/** Whether a principal's identity policies (and its session policy, for a role session) allow one request, by iam-simulate's evaluation. */
export async function evaluate(principal: string, policies: { name: string; policy: any }[], action: string, resource: string, context: Record<string, string | string[]>, sessionPolicy?: unknown) {
  const result = await runSimulation(
    {
      identityPolicies: policies,
      // A role session's own policy (STS AssumeRole's `Policy`): what it allows is the intersection.
      ...(sessionPolicy ? { sessionPolicy } : {}),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      request: { action, principal, resource: { accountId: ACCOUNT, resource }, contextVariables: context },
    },
    {},
  );
  if (result.resultType === 'error') throw new Error(`iam-simulate: ${JSON.stringify(result.errors).slice(0, 500)} in ${JSON.stringify(policies).slice(0, 3000)}`);
  return result.overallResult === 'Allowed';
}

/**
 * A DynamoDB endpoint for one function: each request is evaluated against the function's synthesized
 * identity policies and either forwarded to DynamoDB Local or answered with AccessDeniedException, as
 * DynamoDB answers an unauthorized call.
 */
export async function startDynamoGuard(options: {
  upstream: string;
  region: string;
  principal: string;
  policies: { name: string; policy: any }[];
  log: GuardLog;
}): Promise<{ endpoint: string; server: Server }> {
  const upstream = new URL(options.upstream);
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const raw = Buffer.concat(chunks);
      options.log.requests++;
      try {
        const target = String(req.headers['x-amz-target'] ?? '');
        const body = raw.length ? JSON.parse(raw.toString('utf8')) : {};
        for (const r of dynamoRequests(target, body, options.region)) {
          const allowed = await evaluate(options.principal, options.policies, r.action, r.resource, r.context);
          const decision = { action: r.action, resource: r.resource, allowed };
          options.log.decisions.push(decision);
          if (!allowed) {
            options.log.denied.push(decision);
            res.writeHead(400, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': 'rehearsal' });
            res.end(
              JSON.stringify({
                __type: 'com.amazon.coral.service#AccessDeniedException',
                Message: `User: ${options.principal} is not authorized to perform: ${r.action} on resource: ${r.resource} because no identity-based policy allows the ${r.action} action`,
              }),
            );
            return;
          }
        }
      } catch (error) {
        res.writeHead(500, { 'content-type': 'application/x-amz-json-1.0' });
        res.end(JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', Message: String(error) }));
        return;
      }
      const headers = { ...req.headers, host: upstream.host };
      const up = httpRequest({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers }, (upRes) => {
        res.writeHead(upRes.statusCode ?? 500, upRes.headers);
        upRes.pipe(res);
      });
      up.on('error', (e) => {
        res.writeHead(502);
        res.end(String(e));
      });
      up.end(raw);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

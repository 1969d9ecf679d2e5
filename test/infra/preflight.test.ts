import { EC2Client } from '@aws-sdk/client-ec2';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import { describe, expect, it } from 'vitest';
import { formatReport, needsOf, preflight, type PreflightNeeds } from '../../infra/cdk/preflight';
import { parseDeploymentConfig } from '../../infra/cdk/regions';
import { recordingHandler, testCredentials, type RecordedRequest, type RecordedResponse } from '../support/recorded-aws';

// The preflight against recorded AWS answers: each client serializes its real request (EC2's query
// protocol, Service Quotas' JSON 1.1, Lambda's REST JSON), and the answers are those services' wire
// formats, parsed by the SDK's own deserializers.

/** An account: which zones offer p4d, its P quotas (none applied: AWS's default), its Lambda limits. */
interface Account {
  zones: string[];
  quotas: Record<string, number | 'default'>;
  defaults?: Record<string, number>;
  lambda: { ConcurrentExecutions: number; UnreservedConcurrentExecutions: number };
  /** EC2 answers in pages of this many offerings. */
  pageSize?: number;
}

const offeringsXml = (zones: string[], nextToken?: string) =>
  `<?xml version="1.0" encoding="UTF-8"?>
<DescribeInstanceTypeOfferingsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
  <requestId>4b3d2c1a-0000-4000-8000-000000000001</requestId>
  <instanceTypeOfferingSet>${zones
    .map((z) => `<item><instanceType>p4d.24xlarge</instanceType><locationType>availability-zone</locationType><location>${z}</location></item>`)
    .join('')}</instanceTypeOfferingSet>${nextToken ? `\n  <nextToken>${nextToken}</nextToken>` : ''}
</DescribeInstanceTypeOfferingsResponse>`;

function anAccount(account: Account) {
  const recorder = recordingHandler((request: RecordedRequest): RecordedResponse => {
    if (request.body.startsWith('Action=DescribeInstanceTypeOfferings')) {
      const params = new URLSearchParams(request.body);
      const size = account.pageSize ?? account.zones.length;
      const from = Number(params.get('NextToken') ?? 0);
      const next = from + size < account.zones.length ? String(from + size) : undefined;
      return { body: offeringsXml(account.zones.slice(from, from + size), next), contentType: 'text/xml' };
    }
    const target = request.headers['x-amz-target'];
    if (target === 'ServiceQuotasV20190624.GetServiceQuota' || target === 'ServiceQuotasV20190624.GetAWSDefaultServiceQuota') {
      const { QuotaCode } = JSON.parse(request.body);
      const value = target.includes('GetAWSDefault') ? account.defaults?.[QuotaCode] : account.quotas[QuotaCode];
      if (value === 'default' || value === undefined) {
        return { status: 400, body: JSON.stringify({ __type: 'NoSuchResourceException', message: `The request failed because the specified quota (${QuotaCode}) does not exist.` }), contentType: 'application/x-amz-json-1.1' };
      }
      return { body: JSON.stringify({ Quota: { ServiceCode: 'ec2', QuotaCode, Value: value, Unit: 'None' } }), contentType: 'application/x-amz-json-1.1' };
    }
    if (request.method === 'GET' && request.path === '/2016-08-19/account-settings') {
      return { body: JSON.stringify({ AccountLimit: { ...account.lambda, CodeSizeUnzipped: 262144000, TotalCodeSize: 80530636800 }, AccountUsage: { FunctionCount: 0, TotalCodeSize: 0 } }) };
    }
    throw new Error(`unexpected request ${request.method} ${request.path} ${request.body}`);
  });
  const options = { region: 'us-east-1', credentials: testCredentials, requestHandler: recorder.handler, maxAttempts: 1 };
  return { clients: { ec2: new EC2Client(options), quotas: new ServiceQuotasClient(options), lambda: new LambdaClient(options) }, requests: recorder.requests };
}

const needs: PreflightNeeds = { onDemandNodes: 8, spotNodes: 4, p4dZones: ['us-east-1b'], reservedConcurrency: 5 };
const healthy: Account = {
  zones: ['us-east-1a', 'us-east-1b', 'us-east-1f'],
  quotas: { 'L-417A185B': 768, 'L-7212CCBC': 384 },
  lambda: { ConcurrentExecutions: 1000, UnreservedConcurrentExecutions: 1000 },
};

describe('npm run preflight', () => {
  it('passes an account that offers p4d in the configured zone, with the quotas and concurrency the region needs', async () => {
    const { clients, requests } = anAccount(healthy);
    const report = await preflight(clients, 'us-east-1', needs);
    expect(report.ok).toBe(true);
    expect(report.offeredZones).toEqual(['us-east-1a', 'us-east-1b', 'us-east-1f']);
    expect(formatReport(report)).toBe(
      [
        'ok    p4d.24xlarge offered: in us-east-1a, us-east-1b, us-east-1f',
        'ok    p4dZones: us-east-1b all offer it',
        'ok    EC2 quota Running On-Demand P instances: 768 vCPUs, 768 needed for 8 × p4d.24xlarge',
        'ok    EC2 quota All P Spot Instance Requests: 384 vCPUs, 384 needed for 4 × p4d.24xlarge',
        'ok    Lambda concurrency: 1000 in the account, 1000 unreserved; the stack reserves 5, leaving 995',
        'us-east-1: ready to deploy',
      ].join('\n'),
    );
    // Exactly these read-only requests, as the SDK serialized them.
    expect(requests.map((r) => r.headers['x-amz-target'] ?? `${r.method} ${r.path} ${r.body.split('&')[0]}`)).toEqual([
      'POST / Action=DescribeInstanceTypeOfferings',
      'ServiceQuotasV20190624.GetServiceQuota',
      'ServiceQuotasV20190624.GetServiceQuota',
      'GET /2016-08-19/account-settings ',
    ]);
    expect(Object.fromEntries(new URLSearchParams(requests[0]!.body))).toEqual({
      Action: 'DescribeInstanceTypeOfferings',
      Version: '2016-11-15',
      LocationType: 'availability-zone',
      'Filter.1.Name': 'instance-type',
      'Filter.1.Value.1': 'p4d.24xlarge',
    });
    expect(JSON.parse(requests[1]!.body)).toEqual({ ServiceCode: 'ec2', QuotaCode: 'L-417A185B' });
    expect(JSON.parse(requests[2]!.body)).toEqual({ ServiceCode: 'ec2', QuotaCode: 'L-7212CCBC' });
  });

  it('fails a configured zone the account does not offer p4d in, and short quotas, saying what to request', async () => {
    const { clients } = anAccount({ ...healthy, zones: ['us-east-1a', 'us-east-1f'], quotas: { 'L-417A185B': 96, 'L-7212CCBC': 384 } });
    const report = await preflight(clients, 'us-east-1', needs);
    expect(report.ok).toBe(false);
    expect(report.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`)).toEqual([
      'p4dZones: us-east-1b do not offer it in this account',
      'EC2 quota Running On-Demand P instances: 96 vCPUs, 768 needed for 8 × p4d.24xlarge (request an increase of L-417A185B in Service Quotas)',
    ]);
  });

  it("reads AWS's default where no quota was applied, follows EC2's pages, and names the zones to configure", async () => {
    const { clients, requests } = anAccount({
      ...healthy,
      zones: ['us-east-1a', 'us-east-1c', 'us-east-1d'],
      pageSize: 2,
      quotas: { 'L-417A185B': 'default', 'L-7212CCBC': 384 },
      defaults: { 'L-417A185B': 0 },
    });
    const report = await preflight(clients, 'us-east-1', { ...needs, p4dZones: undefined });
    expect(report.offeredZones).toEqual(['us-east-1a', 'us-east-1c', 'us-east-1d']);
    expect(report.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`)).toEqual([
      'p4dZones: not configured: set "p4dZones": ["us-east-1a","us-east-1c","us-east-1d"] in infra/cdk/regions.json',
      'EC2 quota Running On-Demand P instances: 0 vCPUs, 768 needed for 8 × p4d.24xlarge (request an increase of L-417A185B in Service Quotas)',
    ]);
    expect(requests.filter((r) => r.body.startsWith('Action=DescribeInstanceTypeOfferings'))).toHaveLength(2);
    expect(requests.some((r) => r.headers['x-amz-target'] === 'ServiceQuotasV20190624.GetAWSDefaultServiceQuota')).toBe(true);
  });

  it('fails a region without p4d, and a new account whose Lambda concurrency cannot take the reservations', async () => {
    const { clients } = anAccount({ ...healthy, zones: [], lambda: { ConcurrentExecutions: 10, UnreservedConcurrentExecutions: 10 } });
    const report = await preflight(clients, 'sa-east-1', needsOf(undefined));
    expect(report.checks.filter((c) => !c.ok).map((c) => c.name)).toEqual(['p4d.24xlarge offered', 'p4dZones', 'Lambda concurrency']);
    expect(report.checks.find((c) => c.name === 'Lambda concurrency')!.detail).toMatch(/10 in the account, 10 unreserved; the stack reserves \d+, leaving -?\d+ \(Lambda needs 100 left unreserved/);
  });

  it('turns a refused call into a failed check naming the error', async () => {
    const { clients } = anAccount(healthy);
    clients.lambda = new LambdaClient({
      region: 'us-east-1',
      credentials: testCredentials,
      maxAttempts: 1,
      requestHandler: recordingHandler(() => ({ status: 403, body: JSON.stringify({ Type: 'User', message: 'not authorized to perform lambda:GetAccountSettings' }), contentType: 'application/json' })).handler,
    });
    const report = await preflight(clients, 'us-east-1', needs);
    expect(report.ok).toBe(false);
    expect(report.checks.at(-1)).toMatchObject({ name: 'Lambda concurrency', ok: false, detail: expect.stringMatching(/^could not be read: .*not authorized/) });
  });

  it('takes its needs from the region configuration: Spot only when on, the stack\'s reserved concurrency', () => {
    const config = parseDeploymentConfig({
      prefix: 'sx',
      regions: [{ region: 'us-west-2', p4d: { maxOnDemandNodes: 10, maxSpotNodes: 3 }, spot: false, alarmEmail: 'ops@example.com', p4dZones: ['us-west-2b'] }],
    }).regions[0]!;
    expect(needsOf(config)).toMatchObject({ onDemandNodes: 10, spotNodes: 0, p4dZones: ['us-west-2b'] });
    expect(needsOf(config).reservedConcurrency).toBeGreaterThan(0);
  });
});

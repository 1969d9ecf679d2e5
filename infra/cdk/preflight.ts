/**
 * `npm run preflight -- --region <region>`: before a deploy, checks with read-only calls that the
 * account can run what `infra/cdk/regions.json` asks of that region: which Availability Zones offer
 * p4d.24xlarge (and that the configured `p4dZones` are among them), the EC2 vCPU quotas for
 * on-demand and Spot P instances against the configured node limits, and the Lambda concurrency
 * the stack reserves. Prints one line per check and the `p4dZones` to configure; exits 1 when a
 * check fails. Uses the usual AWS credentials (profile, environment, SSO).
 */
import { pathToFileURL } from 'node:url';
import { DescribeInstanceTypeOfferingsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { GetAccountSettingsCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetAWSDefaultServiceQuotaCommand, GetServiceQuotaCommand, ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import { INSTANCE_TYPE, MAX_NODES_PER_JOB, VCPUS_PER_NODE } from '../../functions/adapters/batch-job-definitions';
import { schedules } from '../routes';
import { loadDeploymentConfig, type RegionConfig } from './regions';

/** EC2 vCPU quotas of the P family (Service Quotas codes). */
export const P_QUOTAS = {
  onDemand: { code: 'L-417A185B', name: 'Running On-Demand P instances' },
  spot: { code: 'L-7212CCBC', name: 'All P Spot Instance Requests' },
} as const;
/** Lambda keeps this much of the account's concurrency unreserved; reservations may not eat into it. */
export const LAMBDA_MIN_UNRESERVED = 100;

export interface PreflightClients {
  ec2: EC2Client;
  quotas: ServiceQuotasClient;
  lambda: LambdaClient;
}

/** What the region's deployment needs (from its configuration, or the least a region can run with). */
export interface PreflightNeeds {
  onDemandNodes: number;
  spotNodes: number;
  p4dZones?: readonly string[];
  /** Concurrency the stack reserves: one per scheduled function. */
  reservedConcurrency: number;
}

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

export interface PreflightReport {
  region: string;
  ok: boolean;
  checks: Check[];
  /** The zones offering p4d.24xlarge, for `p4dZones`. */
  offeredZones: string[];
}

/** The needs of a configured region; for one not yet configured, the least it could deploy with. */
export function needsOf(config: RegionConfig | undefined): PreflightNeeds {
  return {
    onDemandNodes: config?.p4d.maxOnDemandNodes ?? MAX_NODES_PER_JOB,
    spotNodes: config?.spot ? config.p4d.maxSpotNodes : 0,
    p4dZones: config?.p4dZones,
    reservedConcurrency: schedules.length,
  };
}

/**
 * Runs every check against one region. Only read-only calls (DescribeInstanceTypeOfferings,
 * GetServiceQuota / GetAWSDefaultServiceQuota, GetAccountSettings); a call that fails is a failed
 * check naming the error, not a crash.
 */
export async function preflight(clients: PreflightClients, region: string, needs: PreflightNeeds): Promise<PreflightReport> {
  const checks: Check[] = [];
  const offeredZones = await attempt(checks, 'p4d.24xlarge offered', () => zonesOffering(clients.ec2));
  if (offeredZones) {
    checks.push({
      name: 'p4d.24xlarge offered',
      ok: offeredZones.length > 0,
      detail: offeredZones.length > 0 ? `in ${offeredZones.join(', ')}` : `in no Availability Zone of ${region}: the service cannot run there`,
    });
    if (needs.p4dZones) {
      const missing = needs.p4dZones.filter((z) => !offeredZones.includes(z));
      checks.push({
        name: 'p4dZones',
        ok: missing.length === 0,
        detail: missing.length === 0 ? `${needs.p4dZones.join(', ')} all offer it` : `${missing.join(', ')} do not offer it in this account`,
      });
    } else {
      checks.push({ name: 'p4dZones', ok: false, detail: `not configured: set "p4dZones": ${JSON.stringify(offeredZones)} in infra/cdk/regions.json` });
    }
  }

  const quota = async (name: string, code: string, nodes: number) => {
    const value = await attempt(checks, name, () => quotaValue(clients.quotas, code));
    if (value === undefined) return;
    const needed = nodes * VCPUS_PER_NODE;
    checks.push({
      name,
      ok: value >= needed,
      detail: `${value} vCPUs, ${needed} needed for ${nodes} × ${INSTANCE_TYPE}${value >= needed ? '' : ` (request an increase of ${code} in Service Quotas)`}`,
    });
  };
  await quota(`EC2 quota ${P_QUOTAS.onDemand.name}`, P_QUOTAS.onDemand.code, needs.onDemandNodes);
  if (needs.spotNodes > 0) await quota(`EC2 quota ${P_QUOTAS.spot.name}`, P_QUOTAS.spot.code, needs.spotNodes);

  const settings = await attempt(checks, 'Lambda concurrency', () => clients.lambda.send(new GetAccountSettingsCommand({})));
  if (settings) {
    const total = settings.AccountLimit?.ConcurrentExecutions ?? 0;
    const unreserved = settings.AccountLimit?.UnreservedConcurrentExecutions ?? 0;
    const left = unreserved - needs.reservedConcurrency;
    checks.push({
      name: 'Lambda concurrency',
      ok: left >= LAMBDA_MIN_UNRESERVED,
      detail:
        `${total} in the account, ${unreserved} unreserved; the stack reserves ${needs.reservedConcurrency}, leaving ${left}` +
        (left >= LAMBDA_MIN_UNRESERVED ? '' : ` (Lambda needs ${LAMBDA_MIN_UNRESERVED} left unreserved: request a higher concurrent executions quota)`),
    });
  }
  return { region, ok: checks.every((c) => c.ok), checks, offeredZones: offeredZones ?? [] };
}

async function attempt<T>(checks: Check[], name: string, call: () => Promise<T>): Promise<T | undefined> {
  try {
    return await call();
  } catch (error) {
    const e = error as { name?: string; message?: string };
    checks.push({ name, ok: false, detail: `could not be read: ${e.name ?? 'Error'}: ${e.message ?? String(error)}` });
    return undefined;
  }
}

async function zonesOffering(ec2: EC2Client): Promise<string[]> {
  const zones: string[] = [];
  let NextToken: string | undefined;
  do {
    const out = await ec2.send(
      new DescribeInstanceTypeOfferingsCommand({ LocationType: 'availability-zone', Filters: [{ Name: 'instance-type', Values: [INSTANCE_TYPE] }], NextToken }),
    );
    zones.push(...(out.InstanceTypeOfferings ?? []).map((o) => o.Location!).filter(Boolean));
    NextToken = out.NextToken;
  } while (NextToken);
  return [...new Set(zones)].sort();
}

/** The account's applied quota, or AWS's default where none was ever applied (Service Quotas answers NoSuchResource). */
async function quotaValue(quotas: ServiceQuotasClient, QuotaCode: string): Promise<number> {
  try {
    const out = await quotas.send(new GetServiceQuotaCommand({ ServiceCode: 'ec2', QuotaCode }));
    return out.Quota?.Value ?? 0;
  } catch (error) {
    if ((error as { name?: string }).name !== 'NoSuchResourceException') throw error;
    const out = await quotas.send(new GetAWSDefaultServiceQuotaCommand({ ServiceCode: 'ec2', QuotaCode }));
    return out.Quota?.Value ?? 0;
  }
}

/** The report as the terminal shows it. */
export function formatReport(report: PreflightReport): string {
  const lines = report.checks.map((c) => `${c.ok ? 'ok  ' : 'FAIL'}  ${c.name}: ${c.detail}`);
  const verdict = report.ok ? `${report.region}: ready to deploy` : `${report.region}: fix the failed checks before deploying`;
  return [...lines, verdict].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const at = argv.indexOf('--region');
  const region = at >= 0 ? argv[at + 1] : undefined;
  if (!region || region.startsWith('-')) {
    console.error('usage: npm run preflight -- --region <region>');
    return 2;
  }
  const config = loadDeploymentConfig().regions.find((r) => r.region === region);
  if (!config) console.error(`${region} is not in infra/cdk/regions.json: checking what a region needs at least (${MAX_NODES_PER_JOB} on-demand nodes, no Spot).`);
  const clients = { ec2: new EC2Client({ region }), quotas: new ServiceQuotasClient({ region }), lambda: new LambdaClient({ region }) };
  const report = await preflight(clients, region, needsOf(config));
  console.log(formatReport(report));
  return report.ok ? 0 : 1;
}

// Run as a script (`npm run preflight`), not when imported by the tests.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2));
}

import { readFileSync } from 'node:fs';
import * as z from 'zod';
import { MAX_NODES_PER_JOB } from '../../functions/adapters/batch-job-definitions';
import { ServiceSettings } from '../../functions/env';

/**
 * Regions that offer p4d.24xlarge (8 × A100 40 GB), the only instance type the service runs jobs on.
 * Source: the EC2 P4d launch announcements (us-east-1 and us-west-2 at launch, 2020-11; then
 * us-east-2, eu-west-1, eu-central-1, ap-northeast-1, ap-northeast-2) and the EC2 console's
 * instance-type offerings. Before adding a region, confirm it with
 * `aws ec2 describe-instance-type-offerings --region <r> --location-type availability-zone --filters Name=instance-type,Values=p4d.24xlarge`.
 */
export const P4D_REGIONS = [
  'us-east-1',
  'us-east-2',
  'us-west-2',
  'eu-west-1',
  'eu-central-1',
  'ap-northeast-1',
  'ap-northeast-2',
] as const;

/**
 * The China regions (partition `aws-cn`, a separate account, endpoints under amazonaws.com.cn). They
 * are accepted, but no primary source we found lists p4d.24xlarge there, so a China region must
 * name its `p4dZones`, which only `npm run preflight` (DescribeInstanceTypeOfferings in the account)
 * can supply; Batch there has no EFA, so multi-node jobs run NCCL over TCP (docs/deploy.md).
 */
export const CHINA_REGIONS = ['cn-north-1', 'cn-northwest-1'] as const;

/** The partition a region is in: its ARNs, service principals and endpoints follow it. */
export function partitionOf(region: string): 'aws' | 'aws-cn' | 'aws-us-gov' {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

/** The settings of one region's deployment. */
export const RegionConfig = z
  .strictObject({
    region: z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, 'must be an AWS region name like us-east-1'),
    /** AWS account to deploy to. @default the CLI's current account (`CDK_DEFAULT_ACCOUNT`); none at offline synth */
    account: z.string().regex(/^\d{12}$/).optional(),
    p4d: z.strictObject({
      /** Upper bound of the on-demand compute environment, in p4d.24xlarge nodes (your EC2 quota). */
      maxOnDemandNodes: z.number().int().min(1).max(1000),
      /** Upper bound of the Spot compute environment, in nodes (ignored when `spot` is false). */
      maxSpotNodes: z.number().int().min(0).max(1000).default(0),
    }),
    /** Run single-node jobs on Spot capacity too (multi-node jobs are always on-demand: Batch does not allow MNP on Spot). */
    spot: z.boolean().default(false),
    /** Where alarms are sent (an SNS email subscription; the address must confirm it). */
    alarmEmail: z.email(),
    /** A custom domain for the API, with an ACM certificate for it in the same region. null: the execute-api URL only. */
    domain: z
      .strictObject({ name: z.string().min(3), certificateArn: z.string().regex(/^arn:aws(-cn|-us-gov)?:acm:/, 'must be an ACM certificate ARN') })
      .nullable()
      .default(null),
    /**
     * The Availability Zones offering p4d.24xlarge, by name as this account sees them (names map to
     * different zones in different accounts), as `npm run preflight -- --region <r>` prints them. The
     * VPC spans these and the on-demand (multi-node) compute environment runs in the first.
     * Required in the China regions. @default the region's first `maxAzs` zones, with a synth warning
     */
    p4dZones: z.array(z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-\d[a-z]$/, 'must be an Availability Zone name like us-east-1b')).min(1).optional(),
    /** How many AZs the VPC spans when `p4dZones` is not given (Spot capacity is sought in all of them). @default 2 */
    maxAzs: z.number().int().min(1).max(6).default(2),
    /** NAT gateways (jobs pull images from public registries). One per AZ for production-grade egress. @default 1 */
    natGateways: z.number().int().min(1).max(6).default(1),
    /**
     * The service's settings in this region, by variable name (`ServiceSettings` in functions/env.ts:
     * `SX_PRICE_A100`, `SX_CNY_PER_USD`, `SX_STOP_GRACE_SECONDS`, the sweeps'), checked by the same
     * schema the functions read them with and set on every function. `cdk synth -c NAME=value`
     * overrides one for every region. @default {} (each setting's default)
     */
    settings: z.record(z.string(), z.union([z.string(), z.number()]).transform(String)).default({}),
  })
  .superRefine((config, ctx) => {
    const china = (CHINA_REGIONS as readonly string[]).includes(config.region);
    if (!(P4D_REGIONS as readonly string[]).includes(config.region) && !china) {
      ctx.addIssue({
        code: 'custom',
        path: ['region'],
        message: `p4d.24xlarge is not offered in ${config.region}; the service runs only on p4d.24xlarge (regions offering it: ${[...P4D_REGIONS, ...CHINA_REGIONS].join(', ')}; the China ones once preflight confirms it)`,
      });
    }
    if (china && !config.p4dZones) {
      ctx.addIssue({
        code: 'custom',
        path: ['p4dZones'],
        message: `is required in ${config.region}: run \`npm run preflight -- --region ${config.region}\` with the China account's credentials and copy the zones it lists`,
      });
    }
    for (const [i, zone] of (config.p4dZones ?? []).entries()) {
      if (!zone.startsWith(config.region)) ctx.addIssue({ code: 'custom', path: ['p4dZones', i], message: `${zone} is not in ${config.region}` });
    }
    if (config.p4d.maxOnDemandNodes < MAX_NODES_PER_JOB) {
      ctx.addIssue({
        code: 'custom',
        path: ['p4d', 'maxOnDemandNodes'],
        message: `must be at least ${MAX_NODES_PER_JOB}: the API accepts 64-GPU multi-node jobs, which would otherwise wait forever`,
      });
    }
    for (const issue of serviceSettingsIssues(config.settings)) ctx.addIssue({ code: 'custom', path: ['settings', ...issue.path], message: issue.message });
    if (config.spot && config.p4d.maxSpotNodes < 1) {
      ctx.addIssue({ code: 'custom', path: ['p4d', 'maxSpotNodes'], message: 'must be at least 1 when spot is true' });
    }
  });
export type RegionConfig = z.infer<typeof RegionConfig>;

/** What is wrong with a region's (or the context's) service settings: unknown names, and values the functions would refuse. */
export function serviceSettingsIssues(settings: Record<string, string>): Array<{ path: string[]; message: string }> {
  const unknown = Object.keys(settings).filter((name) => !(name in ServiceSettings.shape));
  if (unknown.length) {
    return unknown.map((name) => ({ path: [name], message: `is not a service setting (one of ${Object.keys(ServiceSettings.shape).join(', ')})` }));
  }
  const parsed = ServiceSettings.safeParse(settings);
  return parsed.success ? [] : parsed.error.issues.map((issue) => ({ path: issue.path.map(String), message: issue.message }));
}

export const DeploymentConfig = z
  .strictObject({
    /** Prefix of every physical name (tables, queues, job definitions), so two deployments can share an account. */
    prefix: z.string().regex(/^[a-z][a-z0-9-]{1,20}$/),
    regions: z.array(RegionConfig).min(1),
  })
  .refine((c) => new Set(c.regions.map((r) => r.region)).size === c.regions.length, 'each region may appear once');
export type DeploymentConfig = z.infer<typeof DeploymentConfig>;

/**
 * Validates a deployment configuration.
 * @throws Error naming every invalid field, e.g. a region that does not offer p4d.24xlarge.
 */
export function parseDeploymentConfig(value: unknown, source = 'configuration'): DeploymentConfig {
  const parsed = DeploymentConfig.safeParse(value);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`).join('\n');
  throw new Error(`Invalid deployment ${source}:\n${issues}`);
}

/** The configuration file in the repository: one entry per region. */
export const CONFIG_FILE = new URL('./regions.json', import.meta.url);

/** Reads and validates `infra/cdk/regions.json` (or another file). */
export function loadDeploymentConfig(file: URL | string = CONFIG_FILE): DeploymentConfig {
  return parseDeploymentConfig(JSON.parse(readFileSync(file, 'utf8')), String(file));
}

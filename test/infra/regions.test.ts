import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it, vi } from 'vitest';
import { loadDeploymentConfig, P4D_REGIONS, parseDeploymentConfig } from '../../infra/cdk/regions';
import { buildTestApp, resourcesOf, SYNTH_TIMEOUT_MS } from './cdk-app';

// Building and synthesizing CDK apps is slow on a busy machine (see SYNTH_TIMEOUT_MS).
vi.setConfig({ testTimeout: SYNTH_TIMEOUT_MS, hookTimeout: SYNTH_TIMEOUT_MS });

const region = (overrides: Record<string, unknown> = {}) => ({
  region: 'us-east-1',
  p4d: { maxOnDemandNodes: 8, maxSpotNodes: 2 },
  spot: true,
  alarmEmail: 'ops@example.com',
  ...overrides,
});

describe('region configuration (infra/cdk/regions.json)', () => {
  it('the file in the repository is valid and every region in it offers p4d.24xlarge', () => {
    const config = loadDeploymentConfig();
    expect(config.regions.length).toBeGreaterThan(0);
    for (const r of config.regions) expect(P4D_REGIONS).toContain(r.region);
  });

  it('refuses a region that does not offer p4d.24xlarge, naming it and the regions that do', () => {
    expect(() => parseDeploymentConfig({ prefix: 'sx', regions: [region({ region: 'sa-east-1' })] })).toThrow(
      /regions\.0\.region: p4d\.24xlarge is not offered in sa-east-1; .*regions offering it: us-east-1/,
    );
  });

  it('refuses an on-demand limit too small for a 64-GPU multi-node job', () => {
    expect(() => parseDeploymentConfig({ prefix: 'sx', regions: [region({ p4d: { maxOnDemandNodes: 4 } })] })).toThrow(
      /p4d\.maxOnDemandNodes: must be at least 8/,
    );
  });

  it('refuses Spot on with no Spot capacity, a bad email, an unknown field and a region listed twice', () => {
    expect(() => parseDeploymentConfig({ prefix: 'sx', regions: [region({ p4d: { maxOnDemandNodes: 8, maxSpotNodes: 0 } })] })).toThrow(/maxSpotNodes/);
    expect(() => parseDeploymentConfig({ prefix: 'sx', regions: [region({ alarmEmail: 'nope' })] })).toThrow(/alarmEmail/);
    expect(() => parseDeploymentConfig({ prefix: 'sx', regions: [region({ gpus: 8 })] })).toThrow(/gpus/);
    expect(() => parseDeploymentConfig({ prefix: 'sx', regions: [region(), region()] })).toThrow(/each region may appear once/);
  });

  it('builds one stateful and one stateless stack per region, or only the region asked for', () => {
    const all = buildTestApp();
    expect(Object.keys(all.stacks)).toEqual(loadDeploymentConfig().regions.map((r) => r.region));
    for (const [name, { stateful, stateless }] of Object.entries(all.stacks)) {
      expect(stateful.stackName).toBe(`sx-${name}-stateful`);
      expect(stateless.stackName).toBe(`sx-${name}-stateless`);
      expect(stateless.region).toBe(name);
      expect(stateless.dependencies).toContain(stateful);
    }
    expect(Object.keys(buildTestApp({ only: 'us-west-2' }).stacks)).toEqual(['us-west-2']);
    expect(() => buildTestApp({ only: 'eu-west-3' })).toThrow(/eu-west-3 is not in infra\/cdk\/regions\.json/);
  });
});

describe('where p4d runs: zones and partitions', () => {
  const china = (overrides: Record<string, unknown> = {}) =>
    region({ region: 'cn-northwest-1', spot: false, p4d: { maxOnDemandNodes: 8 }, p4dZones: ['cn-northwest-1b', 'cn-northwest-1c'], ...overrides });

  it('refuses a China region without the p4d zones preflight found, and a zone of another region', () => {
    expect(() => parseDeploymentConfig({ prefix: 'sx', regions: [china({ p4dZones: undefined })] })).toThrow(/p4dZones: is required in cn-northwest-1: run `npm run preflight -- --region cn-northwest-1`/);
    expect(() => parseDeploymentConfig({ prefix: 'sx', regions: [region({ p4dZones: ['us-west-2a'] })] })).toThrow(/p4dZones\.0: us-west-2a is not in us-east-1/);
  });

  it('puts the VPC in the zones that offer p4d and the on-demand compute environment in the first of them', () => {
    const config = parseDeploymentConfig({ prefix: 'sx', regions: [region({ p4dZones: ['us-east-1d', 'us-east-1f'] })] });
    const { stacks } = buildTestApp({ config });
    const template = Template.fromStack(stacks['us-east-1']!.stateless);
    const subnets = resourcesOf(template, 'AWS::EC2::Subnet');
    expect(new Set(Object.values(subnets).map((s) => s.Properties.AvailabilityZone))).toEqual(new Set(['us-east-1d', 'us-east-1f']));
    const onDemand = Object.values(resourcesOf(template, 'AWS::Batch::ComputeEnvironment')).find((e) => e.Properties.ComputeResources.Type === 'EC2')!;
    const [subnet] = onDemand.Properties.ComputeResources.Subnets;
    expect(subnets[subnet.Ref]!.Properties).toMatchObject({ AvailabilityZone: 'us-east-1d', Tags: expect.arrayContaining([{ Key: 'aws-cdk:subnet-type', Value: 'Private' }]) });
    expect(Annotations.fromStack(stacks['us-east-1']!.stateless).findWarning('*', Match.stringLikeRegexp('p4dZones'))).toEqual([]);
  });

  it('warns at synth when the zones offering p4d are not known', () => {
    const { stacks } = buildTestApp({ only: 'us-east-1' });
    const warnings = Annotations.fromStack(stacks['us-east-1']!.stateless).findWarning('*', Match.stringLikeRegexp('No p4dZones'));
    expect(warnings).toHaveLength(1);
  });

  it('synthesizes a China region (aws-cn ARNs, no EFA, no console) that passes cdk-nag and CloudFormation\'s rules', () => {
    const config = parseDeploymentConfig({ prefix: 'sx', regions: [china()] });
    const { app, stacks } = buildTestApp({ config, nag: true });
    app.synth(); // findings and rule violations fail synthesis
    const stateless = Template.fromStack(stacks['cn-northwest-1']!.stateless);
    const text = JSON.stringify(stateless.toJSON());
    expect(text).not.toMatch(/arn:aws:/);
    expect(text).toMatch(/arn:aws-cn:batch:cn-northwest-1:/);
    for (const lt of Object.values(resourcesOf(stateless, 'AWS::EC2::LaunchTemplate'))) {
      expect(lt.Properties.LaunchTemplateData.NetworkInterfaces).toBeUndefined();
    }
    expect(text).not.toContain('sx-efa-setup');
    expect(text).not.toContain('sx-s5cmd-setup'); // GitHub is not reliably reachable there: the AWS CLI fetches inputs
    const multi = Object.values(resourcesOf(stateless, 'AWS::Batch::JobDefinition')).find((d) => d.Properties.Type === 'multinode')!;
    const [range] = multi.Properties.NodeProperties.NodeRangeProperties;
    expect(range.Container.LinuxParameters.Devices).toBeUndefined();
    expect(range.TargetNodes).toBe('0:');
    // CloudFront there serves only an ICP-registered domain and has no origin access control: no console.
    expect(resourcesOf(stateless, 'AWS::CloudFront::Distribution')).toEqual({});
    expect(Annotations.fromStack(stacks['cn-northwest-1']!.stateless).findInfo('*', Match.stringLikeRegexp('console is not deployed'))).toHaveLength(1);
  });
});

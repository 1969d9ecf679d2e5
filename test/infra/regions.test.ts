import { describe, expect, it, vi } from 'vitest';
import { loadDeploymentConfig, P4D_REGIONS, parseDeploymentConfig } from '../../infra/cdk/regions';
import { buildTestApp, SYNTH_TIMEOUT_MS } from './cdk-app';

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

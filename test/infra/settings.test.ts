import type { CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it, vi } from 'vitest';
import { buildAwsDeps } from '../../functions/aws-deps';
import { readLambdaEnv } from '../../functions/env';
import { loadDeploymentConfig, parseDeploymentConfig } from '../../infra/cdk/regions';
import { buildTestApp, resourcesOf, SYNTH_TIMEOUT_MS } from './cdk-app';

vi.setConfig({ testTimeout: SYNTH_TIMEOUT_MS });

/** The real configuration with these settings in us-east-1. */
function configWith(settings: Record<string, unknown>) {
  const config = loadDeploymentConfig();
  return { ...config, regions: config.regions.map((r) => (r.region === 'us-east-1' ? { ...r, settings } : r)) };
}

describe("a region's service settings reach its functions", () => {
  it('sets the price, exchange rate, stop grace and a context override on every function, and the functions price jobs with them', () => {
    // Prepare: a region that sets its A100 price and exchange rate and a longer stop grace; one sweep setting from `-c`.
    const config = parseDeploymentConfig(configWith({ SX_PRICE_A100: 1500, SX_CNY_PER_USD: '7.2', SX_STOP_GRACE_SECONDS: 45 }));
    const { stacks } = buildTestApp({ config, only: 'us-east-1', context: { SX_LOST_JOB_SECONDS: '600' } });
    // Act
    const { stateless } = stacks['us-east-1']!;
    const template = Template.fromStack(stateless);
    // Assess: every function of ours has them in its environment…
    const all = resourcesOf(template, 'AWS::Lambda::Function');
    const functions = Object.values(stateless.functions).map((fn) => all[stateless.getLogicalId(fn.function.node.defaultChild as CfnElement)]!);
    expect(functions.length).toBeGreaterThan(10);
    for (const fn of functions) {
      expect(fn.Properties.Environment.Variables).toMatchObject({ SX_PRICE_A100: '1500', SX_CNY_PER_USD: '7.2', SX_STOP_GRACE_SECONDS: '45', SX_LOST_JOB_SECONDS: '600' });
    }
    // …the nodes' ECS stop timeout follows the same grace…
    const userData = Object.values(resourcesOf(template, 'AWS::EC2::LaunchTemplate')).map((t) => JSON.stringify(t.Properties.LaunchTemplateData.UserData));
    expect(userData.length).toBeGreaterThan(0);
    for (const script of userData) expect(script).toContain('ECS_CONTAINER_STOP_TIMEOUT=45s');
    // …and a function built from that environment prices and sweeps with them (tokens stand in as names).
    const variables = functions[0]!.Properties.Environment.Variables as Record<string, unknown>;
    const env = Object.fromEntries(Object.entries(variables).map(([name, value]) => [name, typeof value === 'string' ? value : `token-${name}`]));
    const deps = buildAwsDeps(readLambdaEnv({ ...env, AWS_REGION: 'us-east-1' }));
    expect(deps.policy.prices.a100).toBe(1500);
    expect(deps.policy.stopGraceSeconds).toBe(45);
    expect(deps.sweeps?.lostJobSeconds).toBe(600);
  });

  it('refuses, before anything is built, a setting the functions do not know or would refuse', () => {
    expect(() => parseDeploymentConfig(configWith({ SX_PRICE_H100: 2000 }))).toThrow(/regions\.0\.settings\.SX_PRICE_H100: is not a service setting/);
    expect(() => parseDeploymentConfig(configWith({ SX_PRICE_A100: -1 }))).toThrow(/regions\.0\.settings\.SX_PRICE_A100: /);
    expect(() => parseDeploymentConfig(configWith({ SX_CNY_PER_USD: 'seven' }))).toThrow(/regions\.0\.settings\.SX_CNY_PER_USD: must be a positive rate/);
    expect(() => buildTestApp({ only: 'us-east-1', context: { SX_STOP_GRACE_SECONDS: '9000' } })).toThrow(/Invalid context: SX_STOP_GRACE_SECONDS: /);
  });
});

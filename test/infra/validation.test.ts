import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { loadDeploymentConfig } from '../../infra/cdk/regions';
import { buildTestApp, cdkContext, resourcesOf, SYNTH_TIMEOUT_MS } from './cdk-app';

describe('every configured region synthesizes cleanly', () => {
  it("has CloudFormation's default rules as errors (cdk.json)", () => {
    expect(cdkContext['@aws-cdk/core:validateAgainstDefaultRules']).toBe(true);
  });

  it("passes cdk-nag's AwsSolutions pack and CloudFormation's default rules, every suppression with a reason", () => {
    // Prepare: the real configuration, all regions, with the cdk-nag plugin as infra/cdk/app.ts adds it.
    const { app, stacks } = buildTestApp({ nag: true });
    // Act: synthesis runs the validation plugins and the default rules; either failing throws.
    const assembly = app.synth();
    // Assess
    expect(assembly.stacks.map((s) => s.stackName).sort()).toEqual(
      loadDeploymentConfig().regions.flatMap((r) => [`sx-${r.region}-stateful`, `sx-${r.region}-stateless`, `sx-${r.region}-operators`, `sx-${r.region}-webhooks`]).sort(),
    );
    const report = new AwsSolutionsChecks(app).validateScope(app);
    expect(report.violations.map((v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`)).toEqual([]);
    for (const { stateful, stateless, routes } of Object.values(stacks)) {
      for (const construct of [stateful, stateless, ...Object.values(routes)].flatMap((s) => s.node.findAll())) {
        for (const entry of construct.node.metadata.filter((m) => m.type === 'aws:cdk:acknowledged-rules')) {
          for (const [rule, reason] of Object.entries(entry.data as Record<string, string>)) {
            expect(reason.length, `${construct.node.path} ${rule}`).toBeGreaterThan(40);
          }
        }
      }
    }

    // A region without Spot gets no Spot environment or queue, and an empty Spot queue name.
    const tokyo = Template.fromStack(stacks['ap-northeast-1']!.stateless);
    expect(Object.values(resourcesOf(tokyo, 'AWS::Batch::ComputeEnvironment')).map((r) => r.Properties.ComputeResources.Type)).toEqual(['EC2']);
    expect(Object.keys(resourcesOf(tokyo, 'AWS::Batch::JobQueue'))).toHaveLength(1);
    expect(stacks['ap-northeast-1']!.stateless.lambdaEnvironment.SX_JOB_QUEUE_SPOT).toBe('');
  }, SYNTH_TIMEOUT_MS);
});

import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { ensureConsoleBuild } from '../../console/build';
import { buildApp } from '../../infra/cdk/build';
import { REPO_ROOT } from '../../infra/cdk/bundling';
import { loadDeploymentConfig, type DeploymentConfig } from '../../infra/cdk/regions';
import type { StatelessStackProps } from '../../infra/cdk/stateless-stack';

/**
 * Synthesis runs CloudFormation's default rules over every template and takes tens of seconds on a
 * busy 2-core machine (a minute for all regions at a load of 20), well over the suite's defaults.
 */
export const SYNTH_TIMEOUT_MS = 300_000;

/** The context of `cdk.json` (feature flags, `validateAgainstDefaultRules`): tests synthesize what `cdk synth` does. */
export const cdkContext: Record<string, unknown> = JSON.parse(readFileSync(join(REPO_ROOT, 'cdk.json'), 'utf8')).context;

/** The console's real build, as `infra/cdk/app.ts` publishes it. */
const consoleBuild = await ensureConsoleBuild();

/** Stand-in code for tests that assert on the template, not the bundle (bundling is tested on its own). */
export const stubCode = () => lambda.Code.fromInline('export const handler = async () => ({});');

/**
 * Builds the app as `infra/cdk/app.ts` does, into a fresh output directory.
 * `nag: true` adds the cdk-nag plugin (findings then fail `app.synth()`); `context` is what `-c NAME=value` gives.
 */
export function buildTestApp(
  options: { nag?: boolean; config?: DeploymentConfig; overrides?: Partial<StatelessStackProps>; only?: string; context?: Record<string, string> } = {},
) {
  const app = new App({ context: { ...cdkContext, ...options.context }, outdir: mkdtempSync(join(tmpdir(), 'sx-cdk-')) });
  const stacks = buildApp(app, options.config ?? loadDeploymentConfig(), {
    nag: options.nag ?? false,
    only: options.only,
    overrides: { codeFor: stubCode, consoleDir: consoleBuild.dir, ...options.overrides },
  });
  return { app, stacks };
}

type Resources = Record<string, { Type: string; Properties?: any; DependsOn?: unknown }>;

/** Resources of a type in a synthesized template, by logical id. */
export function resourcesOf(template: { toJSON(): any }, type: string): Resources {
  const all = template.toJSON().Resources as Resources;
  return Object.fromEntries(Object.entries(all).filter(([, r]) => r.Type === type));
}

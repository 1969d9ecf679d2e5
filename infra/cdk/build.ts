import { Tags, Validations, type App } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ServiceSettings } from '../../functions/env';
import { serviceSettingsIssues, type DeploymentConfig } from './regions';
import { StatefulStack } from './stateful-stack';
import { StatelessStack, type StatelessStackProps } from './stateless-stack';

export interface RegionStacks {
  stateful: StatefulStack;
  stateless: StatelessStack;
}

/**
 * Adds both stacks of every configured region (or only `options.only`) to `app`, and cdk-nag's
 * AwsSolutions checks, whose findings fail synthesis unless acknowledged with a reason. A service
 * setting in the app's context (`-c SX_PRICE_A100=1100`) overrides the regions' own.
 * @throws Error when `options.only` names a region that is not configured, or a context setting is invalid.
 */
export function buildApp(
  app: App,
  config: DeploymentConfig,
  options: { only?: string; nag?: boolean; overrides?: Partial<StatelessStackProps> } = {},
): Record<string, RegionStacks> {
  const regions = options.only ? config.regions.filter((r) => r.region === options.only) : config.regions;
  if (regions.length === 0) {
    throw new Error(`Region ${options.only} is not in infra/cdk/regions.json (configured: ${config.regions.map((r) => r.region).join(', ')})`);
  }
  // `-c SX_PRICE_A100=1100`: a service setting from the context, for every region built.
  const fromContext: Record<string, string> = {};
  for (const name of Object.keys(ServiceSettings.shape)) {
    const value = app.node.tryGetContext(name) as unknown;
    if (value !== undefined) fromContext[name] = String(value);
  }
  const contextIssues = serviceSettingsIssues(fromContext);
  if (contextIssues.length) throw new Error(`Invalid context: ${contextIssues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  if (options.nag ?? true) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  Tags.of(app).add('project', 'suanxiang-cloud');
  Tags.of(app).add('sx:deployment', config.prefix);

  const built: Record<string, RegionStacks> = {};
  for (const region of regions) {
    const env = { region: region.region, account: region.account ?? process.env.CDK_DEFAULT_ACCOUNT };
    const stateful = new StatefulStack(app, `${config.prefix}-${region.region}-stateful`, {
      env,
      prefix: config.prefix,
      description: `suanxiang-cloud ${region.region}: tables, bucket, job logs, admin key (retained)`,
    });
    const stateless = new StatelessStack(app, `${config.prefix}-${region.region}-stateless`, {
      env,
      prefix: config.prefix,
      config: { ...region, settings: { ...region.settings, ...fromContext } },
      stateful,
      description: `suanxiang-cloud ${region.region}: API, functions, projections, events, schedules, Batch, alarms`,
      ...options.overrides,
    });
    stateless.addStackDependency(stateful);
    built[region.region] = { stateful, stateless };
  }
  return built;
}

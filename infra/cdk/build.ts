import { Tags, Validations, type App } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ServiceSettings } from '../../functions/env';
import { serviceSettingsIssues, type DeploymentConfig } from './regions';
import { StatefulStack } from './stateful-stack';
import { RouteStack, splitRoutes, type RouteGroup } from './route-stack';
import { declaredRoutes, StatelessStack, type StatelessStackProps } from './stateless-stack';

export interface RegionStacks {
  stateful: StatefulStack;
  stateless: StatelessStack;
  /** The groups of routes in stacks of their own (infra/cdk/route-stack.ts). */
  routes: Record<RouteGroup, RouteStack>;
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

  const { routes: tables = declaredRoutes, ...overrides } = options.overrides ?? {};
  const split = splitRoutes(tables.httpRoutes);
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
      ...overrides,
      routes: { ...tables, httpRoutes: split.stateless },
    });
    stateless.addStackDependency(stateful);
    const routes = {} as Record<RouteGroup, RouteStack>;
    for (const [group, groupRoutes] of Object.entries(split.groups) as Array<[RouteGroup, typeof split.stateless]>) {
      routes[group] = new RouteStack(app, `${config.prefix}-${region.region}-${group}`, {
        env,
        stateless,
        routes: groupRoutes,
        codeFor: overrides.codeFor,
        description: `suanxiang-cloud ${region.region}: the ${group} routes of the API and their functions`,
      });
      routes[group].addStackDependency(stateless);
    }
    built[region.region] = { stateful, stateless, routes };
  }
  return built;
}

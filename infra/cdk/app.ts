/**
 * The CDK app: for every region in `infra/cdk/regions.json`, a stateful and a stateless stack
 * (`<prefix>-<region>-stateful`, `<prefix>-<region>-stateless`), checked by cdk-nag's AwsSolutions
 * pack and CloudFormation's default rules. `-c region=us-east-1` builds one region only.
 * Synthesizes offline, without credentials: the functions are bundled here first, once for all regions.
 */
import { App } from 'aws-cdk-lib';
import { ensureConsoleBuild } from '../../console/build';
import { buildApp } from './build';
import { bundleHandlers } from './bundling';
import { loadDeploymentConfig } from './regions';
import { handlerNames } from './stateless-stack';

const config = loadDeploymentConfig();
const app = new App();
const only = app.node.tryGetContext('region') as string | undefined;
await bundleHandlers(handlerNames());
const { dir: consoleDir } = await ensureConsoleBuild();
buildApp(app, config, { only, overrides: { consoleDir } });
app.synth();

import { httpRoutes, type HttpRoute } from '../../infra/routes';
import type { RouteModule } from '../http/openapi';
import * as signup from './signup';
import * as getAccount from './get-account';
import * as createJob from './create-job';
import * as listJobs from './list-jobs';
import * as getJob from './get-job';
import * as cancelJob from './cancel-job';
import * as listJobEvents from './list-job-events';
import * as getJobLogs from './get-job-logs';
import * as createApiKey from './create-api-key';
import * as listApiKeys from './list-api-keys';
import * as revokeApiKey from './revoke-api-key';
import * as createVoucher from './create-voucher';
import * as redeemVoucher from './redeem-voucher';
import * as getUsage from './get-usage';

/**
 * Every HTTP route's module, by handler name: what the OpenAPI document is built from. `satisfies`
 * makes a route without its module here a compile error (the OpenAPI route describes itself, so it
 * does not import itself).
 */
const modules = {
  'api/signup': signup,
  'api/get-account': getAccount,
  'api/create-job': createJob,
  'api/list-jobs': listJobs,
  'api/get-job': getJob,
  'api/cancel-job': cancelJob,
  'api/list-job-events': listJobEvents,
  'api/get-job-logs': getJobLogs,
  'api/create-api-key': createApiKey,
  'api/list-api-keys': listApiKeys,
  'api/revoke-api-key': revokeApiKey,
  'api/create-voucher': createVoucher,
  'api/redeem-voucher': redeemVoucher,
  'api/get-usage': getUsage,
} satisfies Record<Exclude<HttpRoute['handler'], 'api/get-openapi'>, RouteModule>;

/** The OpenAPI route itself: public, no input, the document as its body. */
export const openApiModule: RouteModule = { schemas: {}, options: { auth: 'none' } };

/** The route table joined with each route's module. */
export const routesWithModules = () =>
  httpRoutes.map((route) => ({
    ...route,
    module: route.handler === 'api/get-openapi' ? openApiModule : (modules[route.handler] as RouteModule),
  }));

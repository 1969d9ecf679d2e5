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
import * as getJobMetrics from './get-job-metrics';
import * as createApiKey from './create-api-key';
import * as listApiKeys from './list-api-keys';
import * as revokeApiKey from './revoke-api-key';
import * as createVoucher from './create-voucher';
import * as redeemVoucher from './redeem-voucher';
import * as getUsage from './get-usage';
import * as getPrices from './get-prices';
import * as createWebhookEndpoint from './create-webhook-endpoint';
import * as deleteWebhookEndpoint from './delete-webhook-endpoint';
import * as enableWebhookEndpoint from './enable-webhook-endpoint';
import * as getWebhookEndpoint from './get-webhook-endpoint';
import * as listWebhookDeliveries from './list-webhook-deliveries';
import * as listWebhookEndpoints from './list-webhook-endpoints';
import * as retryWebhookDelivery from './retry-webhook-delivery';
import * as rotateWebhookSecret from './rotate-webhook-secret';
import * as createFile from './create-file';
import * as listFiles from './list-files';
import * as getFile from './get-file';
import * as deleteFile from './delete-file';
import * as completeFile from './complete-file';
import * as resumeFileUpload from './resume-file-upload';
import * as getFileContent from './get-file-content';
import * as listJobOutputs from './list-job-outputs';
import * as listJobCheckpoints from './list-job-checkpoints';
import * as listAdminAccounts from './list-admin-accounts';
import * as getAdminAccount from './get-admin-account';
import * as getAdminAccountLedger from './get-admin-account-ledger';
import * as createAdminCredit from './create-admin-credit';
import * as suspendAccount from './suspend-account';
import * as reactivateAccount from './reactivate-account';
import * as listAdminVouchers from './list-admin-vouchers';
import * as getAdminVoucher from './get-admin-voucher';
import * as disableVoucher from './disable-voucher';
import * as listAdminJobs from './list-admin-jobs';
import { openApiModule } from './openapi-route';

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
  'api/get-job-metrics': getJobMetrics,
  'api/create-api-key': createApiKey,
  'api/list-api-keys': listApiKeys,
  'api/revoke-api-key': revokeApiKey,
  'api/create-voucher': createVoucher,
  'api/redeem-voucher': redeemVoucher,
  'api/get-usage': getUsage,
  'api/get-prices': getPrices,
  'api/create-webhook-endpoint': createWebhookEndpoint,
  'api/delete-webhook-endpoint': deleteWebhookEndpoint,
  'api/enable-webhook-endpoint': enableWebhookEndpoint,
  'api/get-webhook-endpoint': getWebhookEndpoint,
  'api/list-webhook-deliveries': listWebhookDeliveries,
  'api/list-webhook-endpoints': listWebhookEndpoints,
  'api/retry-webhook-delivery': retryWebhookDelivery,
  'api/rotate-webhook-secret': rotateWebhookSecret,
  'api/create-file': createFile,
  'api/list-files': listFiles,
  'api/get-file': getFile,
  'api/delete-file': deleteFile,
  'api/complete-file': completeFile,
  'api/resume-file-upload': resumeFileUpload,
  'api/get-file-content': getFileContent,
  'api/list-job-outputs': listJobOutputs,
  'api/list-job-checkpoints': listJobCheckpoints,
  'api/list-admin-accounts': listAdminAccounts,
  'api/get-admin-account': getAdminAccount,
  'api/get-admin-account-ledger': getAdminAccountLedger,
  'api/create-admin-credit': createAdminCredit,
  'api/suspend-account': suspendAccount,
  'api/reactivate-account': reactivateAccount,
  'api/list-admin-vouchers': listAdminVouchers,
  'api/get-admin-voucher': getAdminVoucher,
  'api/disable-voucher': disableVoucher,
  'api/list-admin-jobs': listAdminJobs,
} satisfies Record<Exclude<HttpRoute['handler'], 'api/get-openapi'>, RouteModule>;

/** The route table joined with each route's module. */
export const routesWithModules = () =>
  httpRoutes.map((route) => ({
    ...route,
    module: route.handler === 'api/get-openapi' ? (openApiModule as RouteModule) : (modules[route.handler] as RouteModule),
  }));

import type { Deps } from '../../functions/deps';
import type { HandlerName } from '../routes';
import * as signup from '../../functions/api/signup';
import * as getAccount from '../../functions/api/get-account';
import * as createJob from '../../functions/api/create-job';
import * as listJobs from '../../functions/api/list-jobs';
import * as getJob from '../../functions/api/get-job';
import * as cancelJob from '../../functions/api/cancel-job';
import * as listJobEvents from '../../functions/api/list-job-events';
import * as getJobLogs from '../../functions/api/get-job-logs';
import * as getJobMetrics from '../../functions/api/get-job-metrics';
import * as ingestJobMetrics from '../../functions/ingest-job-metrics';
import * as createApiKey from '../../functions/api/create-api-key';
import * as listApiKeys from '../../functions/api/list-api-keys';
import * as revokeApiKey from '../../functions/api/revoke-api-key';
import * as getOpenapi from '../../functions/api/get-openapi';
import * as projectJobViews from '../../functions/project-job-views';
import * as dispatchJobs from '../../functions/dispatch-jobs';
import * as batchEvents from '../../functions/batch-events';
import * as createVoucher from '../../functions/api/create-voucher';
import * as redeemVoucher from '../../functions/api/redeem-voucher';
import * as getUsage from '../../functions/api/get-usage';
import * as getPrices from '../../functions/api/get-prices';
import * as projectLedger from '../../functions/project-ledger';
import * as grantMonthlyCredits from '../../functions/grant-monthly-credits';
import * as trackActiveJobs from '../../functions/track-active-jobs';
import * as enforceHolds from '../../functions/enforce-holds';
import * as reconcileJobs from '../../functions/reconcile-jobs';
import * as scaleCapacity from '../../functions/scale-capacity';
import * as createWebhookEndpoint from '../../functions/api/create-webhook-endpoint';
import * as listWebhookEndpoints from '../../functions/api/list-webhook-endpoints';
import * as getWebhookEndpoint from '../../functions/api/get-webhook-endpoint';
import * as deleteWebhookEndpoint from '../../functions/api/delete-webhook-endpoint';
import * as rotateWebhookSecret from '../../functions/api/rotate-webhook-secret';
import * as enableWebhookEndpoint from '../../functions/api/enable-webhook-endpoint';
import * as listWebhookDeliveries from '../../functions/api/list-webhook-deliveries';
import * as retryWebhookDelivery from '../../functions/api/retry-webhook-delivery';
import * as fanOutWebhooks from '../../functions/fan-out-webhooks';
import * as sendWebhooks from '../../functions/send-webhooks';
import * as expireUploads from '../../functions/expire-uploads';
import * as createFile from '../../functions/api/create-file';
import * as listFiles from '../../functions/api/list-files';
import * as getFile from '../../functions/api/get-file';
import * as deleteFile from '../../functions/api/delete-file';
import * as completeFile from '../../functions/api/complete-file';
import * as resumeFileUpload from '../../functions/api/resume-file-upload';
import * as getFileContent from '../../functions/api/get-file-content';
import * as listJobOutputs from '../../functions/api/list-job-outputs';
import * as listJobCheckpoints from '../../functions/api/list-job-checkpoints';

// biome-ignore lint: the handlers have different event types; the local stack knows which it calls
type AnyHandler = (event: any, context?: any) => Promise<any>;

/**
 * The same factories Lambda uses, by the names the routes table gives. `satisfies` makes a route
 * naming a missing handler (or a handler no route uses) a compile error.
 */
export const factories = {
  'api/signup': signup.make,
  'api/get-account': getAccount.make,
  'api/create-job': createJob.make,
  'api/list-jobs': listJobs.make,
  'api/get-job': getJob.make,
  'api/cancel-job': cancelJob.make,
  'api/list-job-events': listJobEvents.make,
  'api/get-job-logs': getJobLogs.make,
  'api/get-job-metrics': getJobMetrics.make,
  // Not run locally (the stack reads job logs itself, infra/local/log-metrics.ts), but kept loadable with the others.
  'ingest-job-metrics': ingestJobMetrics.make,
  'api/create-api-key': createApiKey.make,
  'api/list-api-keys': listApiKeys.make,
  'api/revoke-api-key': revokeApiKey.make,
  'api/get-openapi': getOpenapi.make,
  'project-job-views': projectJobViews.make,
  'dispatch-jobs': dispatchJobs.make,
  'batch-events': batchEvents.make,
  'api/create-voucher': createVoucher.make,
  'api/redeem-voucher': redeemVoucher.make,
  'api/get-usage': getUsage.make,
  'api/get-prices': getPrices.make,
  'project-ledger': projectLedger.make,
  'grant-monthly-credits': grantMonthlyCredits.make,
  'track-active-jobs': trackActiveJobs.make,
  'enforce-holds': enforceHolds.make,
  'reconcile-jobs': reconcileJobs.make,
  'scale-capacity': scaleCapacity.make,
  'api/create-webhook-endpoint': createWebhookEndpoint.make,
  'api/list-webhook-endpoints': listWebhookEndpoints.make,
  'api/get-webhook-endpoint': getWebhookEndpoint.make,
  'api/delete-webhook-endpoint': deleteWebhookEndpoint.make,
  'api/rotate-webhook-secret': rotateWebhookSecret.make,
  'api/enable-webhook-endpoint': enableWebhookEndpoint.make,
  'api/list-webhook-deliveries': listWebhookDeliveries.make,
  'api/retry-webhook-delivery': retryWebhookDelivery.make,
  'fan-out-webhooks': fanOutWebhooks.make,
  'send-webhooks': sendWebhooks.make,
  'expire-uploads': expireUploads.make,
  'api/create-file': createFile.make,
  'api/list-files': listFiles.make,
  'api/get-file': getFile.make,
  'api/delete-file': deleteFile.make,
  'api/complete-file': completeFile.make,
  'api/resume-file-upload': resumeFileUpload.make,
  'api/get-file-content': getFileContent.make,
  'api/list-job-outputs': listJobOutputs.make,
  'api/list-job-checkpoints': listJobCheckpoints.make,
} satisfies Record<HandlerName, (deps: Deps) => unknown>;

export const makeHandler = (name: HandlerName, deps: Deps) => factories[name](deps) as AnyHandler;

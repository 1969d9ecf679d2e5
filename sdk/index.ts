/**
 * The suanxiang-cloud SDK: one small `fetch`-based client with types from the API's own zod
 * schemas (events/api), pagination helpers and webhook verification. No Node built-ins: it runs on
 * Node 20+ and in browsers.
 */
export { SxClient, paginate, newIdempotencyKey, isFinal, FINAL_STATUSES } from './client';
export type {
  SxClientOptions,
  Page,
  Job,
  JobEvent,
  MetricPoint,
  MetricSeries,
  Account,
  JobStatusName,
  Credit,
  Voucher,
  UsageReport,
  UsageLine,
  Prices,
  ApiKey,
  CreatedApiKey,
  WebhookEndpoint,
  WebhookEndpointWithSecret,
  WebhookDelivery,
  WebhookDeliveryStatusName,
  SxFile,
} from './client';
export { SxUploadError, type UploadOptions, type UploadProgress } from './upload';
export { SxApiError, SxConnectionError, SxResponseError } from './errors';
export { verifyWebhook, WebhookEvent, WebhookVerificationError } from './webhooks';
export type { CreateJobRequest } from '../events/api/jobs';
export type { CreateWebhookEndpointRequest, WebhookEventType } from '../events/api/webhooks';
export type { CreateApiKeyRequest } from '../events/api/api-keys';
export type { CreateFileRequest } from '../events/api/files';
export type { CreateVoucherRequest } from '../events/api/vouchers';

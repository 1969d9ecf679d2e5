/**
 * The suanxiang-cloud SDK: one small `fetch`-based client with types from the API's own zod
 * schemas (events/api), pagination helpers and webhook verification. No Node built-ins: it runs on
 * Node 20+ and in browsers.
 */
export { SxClient, paginate, newIdempotencyKey, isFinal, FINAL_STATUSES } from './client';
export type { SxClientOptions, Page, Job, JobEvent, Account, JobStatusName } from './client';
export { SxApiError, SxConnectionError, SxResponseError } from './errors';
export { verifyWebhook, WebhookEvent, WebhookVerificationError } from './webhooks';
export type { RedeemResponse, UsageReport, UsageLine, WebhookEndpoint, CreatedWebhookEndpoint, WebhookDelivery } from './schemas';
export type { CreateJobRequest } from '../events/api/jobs';

/**
 * The one table of what runs where, read by both the CDK stack and the local stack so they cannot
 * drift. `handler` names a module under `functions/` exporting `make(deps)` and `handler`.
 */

export const httpRoutes = [
  { method: 'POST', path: '/v1/signup', handler: 'api/signup' },
  { method: 'GET', path: '/v1/account', handler: 'api/get-account' },
  { method: 'POST', path: '/v1/jobs', handler: 'api/create-job' },
  { method: 'GET', path: '/v1/jobs', handler: 'api/list-jobs' },
  { method: 'GET', path: '/v1/jobs/{id}', handler: 'api/get-job' },
  { method: 'POST', path: '/v1/jobs/{id}/cancel', handler: 'api/cancel-job' },
  { method: 'GET', path: '/v1/jobs/{id}/events', handler: 'api/list-job-events' },
  { method: 'GET', path: '/v1/jobs/{id}/logs', handler: 'api/get-job-logs' },
  { method: 'GET', path: '/v1/jobs/{id}/outputs', handler: 'api/list-job-outputs' },
  { method: 'GET', path: '/v1/jobs/{id}/checkpoints', handler: 'api/list-job-checkpoints' },
  { method: 'GET', path: '/v1/jobs/{id}/metrics', handler: 'api/get-job-metrics' },
  { method: 'POST', path: '/v1/admin/vouchers', handler: 'api/create-voucher' },
  { method: 'POST', path: '/v1/vouchers/redeem', handler: 'api/redeem-voucher' },
  { method: 'GET', path: '/v1/usage', handler: 'api/get-usage' },
  { method: 'POST', path: '/v1/api-keys', handler: 'api/create-api-key' },
  { method: 'GET', path: '/v1/api-keys', handler: 'api/list-api-keys' },
  { method: 'DELETE', path: '/v1/api-keys/{id}', handler: 'api/revoke-api-key' },
  { method: 'GET', path: '/v1/openapi.json', handler: 'api/get-openapi' },
  { method: 'GET', path: '/v1/prices', handler: 'api/get-prices' },
  { method: 'POST', path: '/v1/webhook-endpoints', handler: 'api/create-webhook-endpoint' },
  { method: 'GET', path: '/v1/webhook-endpoints', handler: 'api/list-webhook-endpoints' },
  { method: 'GET', path: '/v1/webhook-endpoints/{id}', handler: 'api/get-webhook-endpoint' },
  { method: 'DELETE', path: '/v1/webhook-endpoints/{id}', handler: 'api/delete-webhook-endpoint' },
  { method: 'POST', path: '/v1/webhook-endpoints/{id}/rotate-secret', handler: 'api/rotate-webhook-secret' },
  { method: 'POST', path: '/v1/webhook-endpoints/{id}/enable', handler: 'api/enable-webhook-endpoint' },
  { method: 'POST', path: '/v1/files', handler: 'api/create-file' },
  { method: 'GET', path: '/v1/files', handler: 'api/list-files' },
  { method: 'GET', path: '/v1/files/{id}', handler: 'api/get-file' },
  { method: 'DELETE', path: '/v1/files/{id}', handler: 'api/delete-file' },
  { method: 'POST', path: '/v1/files/{id}/complete', handler: 'api/complete-file' },
  { method: 'POST', path: '/v1/files/{id}/upload', handler: 'api/resume-file-upload' },
  { method: 'GET', path: '/v1/files/{id}/content', handler: 'api/get-file-content' },
  { method: 'GET', path: '/v1/webhook-endpoints/{id}/deliveries', handler: 'api/list-webhook-deliveries' },
  { method: 'POST', path: '/v1/webhook-endpoints/{id}/deliveries/{delivery_id}/retry', handler: 'api/retry-webhook-delivery' },
] as const;

/** Consumers of the events table's stream (Lambda event source mappings). */
export const streamConsumers = [
  { name: 'project-job-views', handler: 'project-job-views', batchSize: 100, maxRetries: 10 },
  { name: 'dispatch-jobs', handler: 'dispatch-jobs', batchSize: 10, maxRetries: 10 },
  { name: 'project-ledger', handler: 'project-ledger', batchSize: 100, maxRetries: 10 },
  { name: 'track-active-jobs', handler: 'track-active-jobs', batchSize: 100, maxRetries: 10 },
  // First attempts happen here (up to 15 s each): the Lambda's timeout must cover a batch's slowest lane.
  { name: 'fan-out-webhooks', handler: 'fan-out-webhooks', batchSize: 25, maxRetries: 10 },
] as const;

/** Rules on the event bus (Batch state changes come from the default bus in AWS). */
export const eventRules = [
  {
    name: 'batch-job-state-change',
    pattern: { source: ['aws.batch'], 'detail-type': ['Batch Job State Change'] },
    handler: 'batch-events',
  },
] as const;

/**
 * Subscriptions to the job log group (a CloudWatch Logs subscription filter in AWS; locally, the
 * stack follows each running job's log file the same way, `infra/local/log-metrics.ts`).
 */
export const logSubscriptions = [{ name: 'job-metrics', handler: 'ingest-job-metrics' }] as const;

/**
 * Scheduled invocations (EventBridge Scheduler in AWS, `infra/local/scheduler.ts` locally): the
 * handler runs every `rateSeconds`, never twice at once. Handlers must tolerate a missed or doubled tick.
 */
export const schedules: ReadonlyArray<{
  name: string;
  handler: ScheduleHandler;
  rateSeconds: number;
  /** The local stack's rate, when it can afford a faster one than EventBridge Scheduler's 1-minute minimum. */
  localRateSeconds?: number;
}> = [
  // Monthly vouchers: a run in each hour, so a month's credit arrives within the hour it begins.
  { name: 'grant-monthly-credits', handler: 'grant-monthly-credits', rateSeconds: 3600 },
  // SIGTERM at held − grace across all attempts (the compute side's timeout is the per-attempt backstop).
  { name: 'enforce-holds', handler: 'enforce-holds', rateSeconds: 60 },
  // Catches lost Batch state changes and stuck or lost jobs.
  { name: 'reconcile-jobs', handler: 'reconcile-jobs', rateSeconds: 60 },
  // Compute environments' minimum and desired vCPUs follow demand.
  { name: 'scale-capacity', handler: 'scale-capacity', rateSeconds: 60 },
  // Webhook retries from the durable schedule. The first retry is due after 5 s: every 2 s locally keeps
  // it close without loading the local DynamoDB; in AWS it waits for the next minute.
  { name: 'send-webhooks', handler: 'send-webhooks', rateSeconds: 60, localRateSeconds: 2 },
  // Uploads not completed within Policy.uploadExpirySeconds (24 h): the file fails, its parts are deleted.
  { name: 'expire-uploads', handler: 'expire-uploads', rateSeconds: 3600, localRateSeconds: 60 },
];

/** Handlers run only on a schedule. */
export type ScheduleHandler = 'grant-monthly-credits' | 'enforce-holds' | 'reconcile-jobs' | 'scale-capacity' | 'send-webhooks' | 'expire-uploads';

export type HttpRoute = (typeof httpRoutes)[number];
export type HandlerName =
  | HttpRoute['handler']
  | (typeof streamConsumers)[number]['handler']
  | (typeof eventRules)[number]['handler']
  | (typeof logSubscriptions)[number]['handler']
  | ScheduleHandler;

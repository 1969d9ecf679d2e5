/**
 * What each handler may touch in AWS, so the CDK stack can grant exactly that (least privilege) and
 * nothing more. Plain data, like `tables.ts`: no CDK import. Keyed by the handler names of
 * `routes.ts`. A handler with no entry here gets the default for its kind (see `defaultAccess`)
 * and a synth warning, so a new route or consumer deploys without a CDK change; declare it here to
 * narrow it.
 */

/** One handler's needs. Absent means none. */
export interface HandlerAccess {
  /** The events table: `read` = GetItem/Query, `append` = conditional PutItem and transactions of them. Never update or delete. */
  events?: ReadonlyArray<'read' | 'append'>;
  /** The views table (read models): `read` = GetItem/Query, `write` = PutItem/UpdateItem/DeleteItem (upserts, in-place bookkeeping, removals). */
  views?: ReadonlyArray<'read' | 'write'>;
  /** The metrics table (points read from jobs' logs): `read` = GetItem/Query, `write` = PutItem, counting (UpdateItem) and BatchWriteItem. */
  metrics?: ReadonlyArray<'read' | 'write'>;
  /**
   * AWS Batch: `submit` (SubmitJob on the project's queues and job definitions, tagging the new job, and
   * registering the per-image revisions of the project's job definitions), `terminate` (TerminateJob),
   * `describe` (DescribeJobs/ListJobs: these have no resource-level permissions), `scale`
   * (UpdateComputeEnvironment on the project's compute environments only).
   */
  batch?: ReadonlyArray<'submit' | 'terminate' | 'describe' | 'scale'>;
  /** Read the Batch job log group (a job's output). */
  jobLogs?: boolean;
  /**
   * The data bucket, by prefix: `files/` uploads (multipart: create, sign parts, list parts, complete,
   * abort), reads and deletes; `outputs/` and `checkpoints/` listings; `sign-urls` signs customers' URLs
   * in sessions of the URL signer narrowed to the one key or job prefix (a URL carries its signer's rights); `read-runs` reads the nodes' reports of when jobs' commands ran (`runs/`, what
   * is billed); `sweep-uploads` lists the open uploads of `files/` and aborts them. Presigned URLs carry the signer's rights, so each function gets only these.
   */
  objects?: ReadonlyArray<'upload-files' | 'read-files' | 'delete-files' | 'list-outputs' | 'sign-urls' | 'read-runs' | 'sweep-uploads'>;
  /** Read the admin key from Secrets Manager. */
  adminKey?: boolean;
  /** Put events on the project's custom EventBridge bus. */
  bus?: boolean;
  /** Memory in MB. @default 512 */
  memoryMb?: number;
  /** Timeout in seconds. @default 10 for HTTP routes, 60 otherwise */
  timeoutSeconds?: number;
}

/** The kinds of handler, by the table of `routes.ts` that names them. */
export type HandlerKind = 'http' | 'stream' | 'event' | 'schedule' | 'logs';

/**
 * The default for an undeclared handler: what a handler of that kind typically needs (an API
 * route reads streams to authenticate and appends; a projection reads events and writes views).
 */
export const defaultAccess: Record<HandlerKind, HandlerAccess> = {
  http: { events: ['read', 'append'], views: ['read'], adminKey: true },
  stream: { events: ['read'], views: ['read', 'write'] },
  event: { events: ['read', 'append'] },
  schedule: { events: ['read', 'append'], views: ['read'] },
  logs: { events: ['read'] },
};

export const handlerAccess: Record<string, HandlerAccess> = {
  'api/signup': { events: ['read', 'append'], views: ['read', 'write'] },
  'api/get-account': { events: ['read'], views: ['read'] },
  // The price book is configuration: no table at all.
  'api/get-prices': {},
  'api/create-job': { events: ['read', 'append'], views: ['read', 'write'] },
  'api/list-jobs': { events: ['read'], views: ['read'] },
  'api/get-job': { events: ['read'], views: ['read'] },
  // Cancelling a queued job settles its hold at once: the account is loaded from its snapshot (views).
  'api/cancel-job': { events: ['read', 'append'], views: ['read'] },
  'api/list-job-events': { events: ['read'], views: ['read'] },
  // The log stream of a Batch job is found with DescribeJobs, then read from the job log group.
  'api/get-job-logs': { events: ['read'], views: ['read'], batch: ['describe'], jobLogs: true },
  'api/get-job-metrics': { events: ['read'], views: ['read'], metrics: ['read'] },
  // Metrics: the job log group's subscription reads each job's definitions and records points.
  'ingest-job-metrics': { events: ['read'], metrics: ['read', 'write'] },
  'project-job-views': { events: ['read'], views: ['write'] },
  // Submit finds an existing job of the same name first (ListJobs/DescribeJobs), so a redelivery never runs a job twice.
  'dispatch-jobs': { events: ['read', 'append'], views: ['read'], batch: ['submit', 'terminate', 'describe'] },
  // A final state settles the hold: the account is loaded from its snapshot (views).
  // It also records which job writes which log stream (job metrics): the metrics table.
  'batch-events': { events: ['read', 'append'], views: ['read'], metrics: ['write'], objects: ['read-runs'] },
  // Issue 3: the ledger. Account loads read snapshots (views); idempotent routes keep their records in views.
  'api/create-voucher': { events: ['read', 'append'], views: ['read', 'write'], adminKey: true },
  'api/redeem-voucher': { events: ['read', 'append'], views: ['read', 'write'] },
  'api/get-usage': { events: ['read'], views: ['read'] },
  'project-ledger': { events: ['read'], views: ['read', 'write'] },
  'grant-monthly-credits': { events: ['read', 'append'], views: ['read'] },
  // Issue 7: keys and the public contract.
  'api/create-api-key': { events: ['read', 'append'], views: ['read', 'write'] },
  'api/list-api-keys': { events: ['read'], views: ['read'] },
  'api/revoke-api-key': { events: ['read', 'append'], views: ['read'] },
  'api/get-openapi': {},
  // Issue 4: compute sweeps. Non-final jobs are a view; describe/terminate go to Batch.
  'track-active-jobs': { events: ['read'], views: ['read', 'write'] },
  'enforce-holds': { events: ['read', 'append'], views: ['read'], batch: ['terminate'] },
  'reconcile-jobs': { events: ['read', 'append'], views: ['read', 'write'], batch: ['submit', 'terminate', 'describe'], objects: ['read-runs'] },
  'scale-capacity': { events: ['read'], views: ['read', 'write'], batch: ['scale'] },
  // Issue 5: webhooks. Endpoints are events; deliveries and their schedule are views. First attempts
  // (up to 15 s each) happen in the stream consumer, so it and the sender get a longer timeout.
  'api/create-webhook-endpoint': { events: ['read', 'append'], views: ['read', 'write'] },
  'api/list-webhook-endpoints': { events: ['read'], views: ['read'] },
  'api/get-webhook-endpoint': { events: ['read'], views: ['read'] },
  'api/delete-webhook-endpoint': { events: ['read', 'append'], views: ['read'] },
  'api/rotate-webhook-secret': { events: ['read', 'append'], views: ['read'] },
  'api/enable-webhook-endpoint': { events: ['read', 'append'], views: ['read'] },
  'api/list-webhook-deliveries': { events: ['read'], views: ['read'] },
  'api/retry-webhook-delivery': { events: ['read'], views: ['read', 'write'] },
  'fan-out-webhooks': { events: ['read'], views: ['read', 'write'], timeoutSeconds: 120 },
  'send-webhooks': { events: ['read'], views: ['read', 'write'], timeoutSeconds: 120 },
  // Files: bytes go to and from the bucket by presigned URLs; the functions sign and check them.
  'api/create-file': { events: ['read', 'append'], views: ['read', 'write'], objects: ['upload-files', 'sign-urls'] },
  'api/list-files': { events: ['read'], views: ['read'] },
  'api/get-file': { events: ['read'], views: ['read'] },
  // Refused while an active job (views) reads the file.
  'api/delete-file': { events: ['read', 'append'], views: ['read'], objects: ['upload-files', 'delete-files'] },
  // Completing reads the whole object once when a SHA-256 was declared (ranged GETs, 6 × 8 MiB in
  // flight): a longer timeout, and the memory size at which Lambda gives a whole vCPU to the hash.
  'api/complete-file': { events: ['read', 'append'], views: ['read'], objects: ['upload-files', 'read-files', 'delete-files'], memoryMb: 1769, timeoutSeconds: 29 },
  'api/resume-file-upload': { events: ['read'], views: ['read'], objects: ['upload-files', 'sign-urls'] },
  'api/get-file-content': { events: ['read'], views: ['read'], objects: ['sign-urls'] },
  'api/list-job-outputs': { events: ['read'], views: ['read'], objects: ['list-outputs', 'sign-urls'] },
  'api/list-job-checkpoints': { events: ['read'], views: ['read'], objects: ['list-outputs', 'sign-urls'] },
  // Operators (admin key). Account reads fold the account (snapshots in views) and count its jobs (views);
  // changes append events only; the suspension then cancels the account's jobs like their owner's cancel.
  'api/list-admin-accounts': { events: ['read'], views: ['read'], adminKey: true },
  'api/get-admin-account': { events: ['read'], views: ['read'], adminKey: true },
  'api/get-admin-account-ledger': { events: ['read'], adminKey: true },
  'api/create-admin-credit': { events: ['read', 'append'], views: ['read', 'write'], adminKey: true },
  'api/suspend-account': { events: ['read', 'append'], views: ['read'], adminKey: true },
  'api/reactivate-account': { events: ['read', 'append'], views: ['read'], adminKey: true },
  'api/list-admin-vouchers': { views: ['read'], adminKey: true },
  'api/get-admin-voucher': { events: ['read'], views: ['read'], adminKey: true },
  'api/disable-voucher': { events: ['read', 'append'], views: ['read'], adminKey: true },
  'api/list-admin-jobs': { views: ['read'], adminKey: true },
  'project-admin-views': { events: ['read'], views: ['write'] },
  // Fails files whose upload was abandoned (24 h) and aborts their multipart uploads.
  'expire-uploads': { events: ['read', 'append'], objects: ['sweep-uploads'] },
  // The Lambda authorizer (no route table names it): reads key streams, and the admin key for admin routes.
  // Every keyed route (and the authorizer) reads whether the key's account is suspended: its snapshot
  // (views) and the account stream after it (functions/http/suspension.ts).
  'api-authorizer': { events: ['read'], views: ['read'], adminKey: true, memoryMb: 256, timeoutSeconds: 3 },
};

/**
 * Routes served without an API key (no authorizer in front). Everything else needs
 * `Authorization: Bearer …` (an API key or the admin key). From API.md.
 */
export const publicRoutes: ReadonlySet<string> = new Set(['POST /v1/signup', 'GET /v1/openapi.json', 'GET /v1/prices']);

/**
 * Routes that take the admin key instead of an account's API key (API.md: `/v1/admin/…`). The
 * authorizer checks a request against the admin key for these and an API key for every other keyed
 * route; each route module's `options.auth` must agree (a test holds them to it).
 */
export const adminRoutes: ReadonlySet<string> = new Set([
  'POST /v1/admin/vouchers',
  'GET /v1/admin/vouchers',
  'GET /v1/admin/vouchers/{id}',
  'POST /v1/admin/vouchers/{id}/disable',
  'GET /v1/admin/accounts',
  'GET /v1/admin/accounts/{id}',
  'GET /v1/admin/accounts/{id}/ledger',
  'POST /v1/admin/accounts/{id}/credits',
  'POST /v1/admin/accounts/{id}/suspend',
  'POST /v1/admin/accounts/{id}/reactivate',
  'GET /v1/admin/jobs',
]);

/** What the authorizer checks a route's requests against, by its route key (`'POST /v1/jobs'`). */
export const routeAuth = (routeKey: string): 'key' | 'admin' | 'none' =>
  publicRoutes.has(routeKey) ? 'none' : adminRoutes.has(routeKey) ? 'admin' : 'key';

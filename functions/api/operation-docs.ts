import type { ProblemType } from '../../events/api/common';
import type { HttpRoute } from '../../infra/routes';

/** The groups of the reference, in the order it lists them. */
export const tags = [
  { name: 'Accounts', description: 'Signing up, the account with its trial, credits, holds and storage.' },
  { name: 'API keys', description: 'Keys that authenticate an account: shown once, stored as a hash.' },
  { name: 'Jobs', description: 'Training jobs: submit, follow, cancel; their history, logs, metrics, outputs and checkpoints.' },
  { name: 'Files', description: 'Data into jobs: multipart uploads by signed URLs, and downloads.' },
  { name: 'Vouchers', description: 'Compute credit (算力券): redeeming a code, and (admin) creating one.' },
  { name: 'Usage', description: 'What jobs used and how it was paid.' },
  { name: 'Webhook endpoints', description: 'Where job and balance events are sent, and every delivery attempt.' },
  { name: 'Operators', description: 'The admin key: finding an account, its ledger, credits, suspension, vouchers and jobs across accounts. Each names its operator in `X-Operator`; each change takes a reason.' },
  { name: 'Service', description: 'Prices and this document.' },
] as const;
export type Tag = (typeof tags)[number]['name'];

/** What the reference says of one operation beyond what its route module's schemas and options give. */
export interface OperationDocs {
  tag: Tag;
  summary: string;
  description?: string;
  /**
   * Problems this operation answers besides those every operation of its kind does (the document adds
   * `invalid_request`, `unauthorized`, `account_suspended` (keyed routes), `not_found`, `conflict`, `payload_too_large`,
   * `unsupported_media_type`, `idempotency_key_reuse`, `rate_limited` and `internal_error` from its
   * method, path, schemas and options: see `functions/http/openapi.ts`).
   */
  problems?: ProblemType[];
  /** The success answer names the created resource in `Location`. */
  location?: boolean;
  /** A success body that is not JSON described by the module's zod schema. */
  content?: { mediaType: string; schema: Record<string, unknown>; example: unknown };
  /** Examples where the one built from the schemas would not say much (checked against the schemas by the tests). */
  examples?: { request?: unknown; response?: unknown };
}

/**
 * Every operation's summary, description and specific problems, by handler. A route missing here is a
 * compile error: a new route is documented when it is added.
 */
export const operationDocs = {
  'api/signup': {
    tag: 'Accounts',
    summary: 'Sign up',
    description: 'Opens an account with the trial (300 A100 GPU-seconds) and returns its first API key, shown once. One trial per email, case-insensitive: a second signup is 409 `conflict`. Limited per source address.',
    examples: { request: { email: 'ada@example.com' } },
  },
  'api/get-account': {
    tag: 'Accounts',
    summary: 'Get the account',
    description: 'The trial, the credits that can still pay (in spending order), what open holds reserve, what new jobs can draw on, and storage.',
  },
  'api/create-job': {
    tag: 'Jobs',
    summary: 'Submit a job',
    description: 'Places a hold for the job\'s runtime (and the stop grace) and queues it. Paid first from the trial (A100 only), then from credits, earliest expiry first. If the account cannot pay for at least 60 seconds: 402 `insufficient_balance` and no job. A job larger than the concurrent-GPU quota is 409 `quota_exceeded`; the account\'s running jobs filling that quota, or the jobs-per-hour limit, answer 429 with `Retry-After`.',
    problems: ['insufficient_balance', 'quota_exceeded', 'account_suspended', 'not_found'],
    location: true,
  },
  'api/list-jobs': { tag: 'Jobs', summary: 'List jobs', description: 'The account\'s jobs, newest first, optionally of one status.' },
  'api/get-job': { tag: 'Jobs', summary: 'Get a job', description: 'Read from the job\'s own history, so it is never behind a write just made.' },
  'api/cancel-job': {
    tag: 'Jobs',
    summary: 'Cancel a job',
    description: 'A queued job is cancelled at once and its hold released; a started one gets SIGTERM and its grace, and becomes `cancelled` (billed for what it ran) once the compute side confirms. Cancelling a final job is 409 `invalid_state`.',
    problems: ['invalid_state'],
  },
  'api/list-job-events': {
    tag: 'Jobs',
    summary: 'List a job\'s events',
    description: 'The job\'s history as recorded, oldest first, each with the job as it was right after the event.',
  },
  'api/get-job-logs': {
    tag: 'Jobs',
    summary: 'Get a job\'s logs',
    description: 'The job\'s combined output so far, as text.',
    content: { mediaType: 'text/plain', schema: { type: 'string' }, example: 'epoch 1 step 100 loss=2.31\nepoch 1 step 200 loss=1.87\n' },
  },
  'api/get-job-metrics': {
    tag: 'Jobs',
    summary: 'Get a job\'s metrics',
    description: 'Each metric\'s series, oldest first, downsampled to `max_points` keeping its first and last points. Points appear within seconds while the job runs and stay after it ends.',
  },
  'api/list-job-outputs': {
    tag: 'Jobs',
    summary: 'List a job\'s outputs',
    description: 'Every file the job left in `$SX_OUTPUT_DIR`, each with a signed download URL (valid at most 1 h). Empty until the job is final.',
  },
  'api/list-job-checkpoints': {
    tag: 'Jobs',
    summary: 'List a job\'s checkpoints',
    description: 'Every file in `$SX_CHECKPOINT_DIR` as last saved, each with a signed download URL (valid at most 1 h).',
  },
  'api/create-api-key': { tag: 'API keys', summary: 'Create an API key', description: 'The key is in the answer this once; only its hash is stored.', location: true },
  'api/list-api-keys': { tag: 'API keys', summary: 'List API keys', description: 'The account\'s active keys, newest first: never their secrets.' },
  'api/revoke-api-key': {
    tag: 'API keys',
    summary: 'Revoke an API key',
    description: 'Requests with the key get 401 at once. Revoking the account\'s last active key is 409 `invalid_state`.',
    problems: ['invalid_state'],
  },
  'api/create-voucher': {
    tag: 'Vouchers',
    summary: 'Create a voucher (admin)',
    description: 'A code worth an amount of compute credit, redeemable `max_redemptions` times until `expires_at`. A monthly voucher credits its amount again each calendar month to whoever redeemed it. The code is shown only here.',
    examples: { request: { amount: { amount: 10000, currency: 'CNY' }, max_redemptions: 1 } },
  },
  'api/redeem-voucher': {
    tag: 'Vouchers',
    summary: 'Redeem a voucher',
    description: 'Credits the account. An unknown, expired or disabled code is 404 `not_found`; one fully redeemed, or redeemed by this account before, is 409 `conflict`. Of concurrent redemptions of a single-use code exactly one succeeds.',
    problems: ['not_found'],
    examples: { request: { code: 'SX-7QK2-M4PD-9XWA' } },
  },
  'api/get-usage': {
    tag: 'Usage',
    summary: 'Get usage',
    description: 'One line per funding source per job whose billed period ended in [`from`, `to`), and their total. The charges sum to what the balances lost.',
  },
  'api/get-prices': { tag: 'Service', summary: 'Get prices', description: 'What a GPU-hour costs, per GPU type, and the rules a new job\'s hold follows.' },
  'api/get-openapi': {
    tag: 'Service',
    summary: 'Get this OpenAPI document',
    description: 'The OpenAPI 3.1 document of this API, generated from the schemas the server validates with.',
    content: {
      mediaType: 'application/json',
      schema: {
        type: 'object',
        description: 'An OpenAPI 3.1 document.',
        properties: { openapi: { type: 'string', const: '3.1.0' }, info: { type: 'object' }, paths: { type: 'object' } },
        required: ['openapi', 'info', 'paths'],
      },
      example: { openapi: '3.1.0', info: { title: 'suanxiang-cloud (算想云) API', version: '1.0.0' }, paths: {} },
    },
  },
  'api/create-webhook-endpoint': {
    tag: 'Webhook endpoints',
    summary: 'Create a webhook endpoint',
    description: 'The URL must be https and must not resolve to a private, loopback, link-local or metadata address (the local stack also accepts `http://127.0.0.1:*` and `http://localhost:*`). The signing secret is shown only here.',
    location: true,
    examples: { request: { url: 'https://hooks.example.com/sx', events: ['job.succeeded', 'job.failed'] } },
  },
  'api/list-webhook-endpoints': { tag: 'Webhook endpoints', summary: 'List webhook endpoints', description: 'The account\'s endpoints, newest first.' },
  'api/get-webhook-endpoint': {
    tag: 'Webhook endpoints',
    summary: 'Get a webhook endpoint',
    description: 'Its URL, the event types sent to it, whether it is enabled (and if not, why and since when), and until when a rotated-out secret still signs. The secret itself is shown only when the endpoint is created or its secret rotated.',
  },
  'api/delete-webhook-endpoint': { tag: 'Webhook endpoints', summary: 'Delete a webhook endpoint', description: 'No further deliveries; pending ones are given up.' },
  'api/rotate-webhook-secret': {
    tag: 'Webhook endpoints',
    summary: 'Rotate a webhook secret',
    description: 'A new secret, shown once. Until `expire_previous_in_seconds` (24 h by default) have passed, every delivery carries both signatures. The body is optional.',
  },
  'api/enable-webhook-endpoint': {
    tag: 'Webhook endpoints',
    summary: 'Enable a webhook endpoint',
    description: 'Resumes deliveries to an endpoint that was disabled (the receiver answered 410 Gone, or failed every attempt for 5 days).',
  },
  'api/list-webhook-deliveries': {
    tag: 'Webhook endpoints',
    summary: 'List an endpoint\'s deliveries',
    description: 'Every event sent to the endpoint, newest first, with each attempt\'s status code, time and the next retry.',
  },
  'api/retry-webhook-delivery': {
    tag: 'Webhook endpoints',
    summary: 'Retry a delivery',
    description: 'Sends the delivery again now. 409 `invalid_state` while the endpoint is disabled or an attempt is in flight.',
    problems: ['invalid_state'],
  },
  'api/create-file': {
    tag: 'Files',
    summary: 'Create a file',
    description: 'Declares a file and answers signed URLs for its parts: `PUT` each part\'s bytes to its `url`, then complete the file. A file over the maximum size is 413; one that would take the account past its storage quota is 409 `quota_exceeded`.',
    problems: ['quota_exceeded'],
    location: true,
    examples: { request: { filename: 'train.jsonl', size: 10485760, purpose: 'dataset' } },
  },
  'api/list-files': { tag: 'Files', summary: 'List files', description: 'The account\'s files, newest first, optionally of one purpose.' },
  'api/get-file': {
    tag: 'Files',
    summary: 'Get a file',
    description: 'Its name, size, purpose, SHA-256 when given, and status: `uploading` until completed, then `ready` (usable as a job input and downloadable) or `failed`.',
  },
  'api/delete-file': {
    tag: 'Files',
    summary: 'Delete a file',
    description: '409 `invalid_state` while a queued or running job reads it.',
    problems: ['invalid_state'],
  },
  'api/complete-file': {
    tag: 'Files',
    summary: 'Complete a file\'s upload',
    description: 'Checks the parts, size and SHA-256 and makes the file `ready`. A wrong or missing part, another size or a SHA-256 that does not match is 422 `invalid_upload`. Completing a `ready` file again returns it unchanged.',
    problems: ['invalid_state', 'invalid_upload'],
    examples: { request: { parts: [{ part_number: 1, etag: '"9b2cf535f27731c974343645a3985328"' }] } },
  },
  'api/resume-file-upload': {
    tag: 'Files',
    summary: 'Resume a file\'s upload',
    description: 'The parts already uploaded and fresh signed URLs for the rest. 409 `invalid_state` once the file is not uploading or its upload expired.',
    problems: ['invalid_state'],
  },
  'api/get-file-content': {
    tag: 'Files',
    summary: 'Download a file',
    description: 'Redirects (302) to a signed URL of the bytes, valid at most 1 h. 409 `invalid_state` unless the file is `ready`.',
    problems: ['invalid_state'],
  },
  'api/list-admin-accounts': {
    tag: 'Operators',
    summary: 'Find accounts (admin)',
    description: 'Accounts whose email starts with `email` (case-insensitive), from a view kept for this search; all accounts without it. Each with its status, job counts and storage use.',
  },
  'api/get-admin-account': {
    tag: 'Operators',
    summary: 'Get an account (admin)',
    description: 'The account as its owner sees it, plus `status` (`open` | `suspended`), the suspension in force and its jobs by status.',
  },
  'api/get-admin-account-ledger': {
    tag: 'Operators',
    summary: 'An account\'s ledger (admin)',
    description: 'The account\'s statement, oldest first, read from its own events: every grant, credit, adjustment, hold, charge and release with its amount, the balance after it, the time, the actor and the reason.',
  },
  'api/create-admin-credit': {
    tag: 'Operators',
    summary: 'Grant a credit (admin)',
    description: 'A goodwill or refund credit: the customer sees it in `credits` with `"source": "adjustment"`. The operator and reason are recorded on the event.',
    examples: { request: { amount: { amount: 5000, currency: 'CNY' }, reason: 'Refund for the interrupted run of job_01jdq8m5x2v7k9a3b4c6d8e0fg' } },
  },
  'api/suspend-account': {
    tag: 'Operators',
    summary: 'Suspend an account (admin)',
    description: 'At once the account\'s keys get 403 `account_suspended` on every route; its queued jobs are cancelled and its running jobs stopped (SIGTERM, then the grace period) and settled as a cancel is. Suspending a suspended account again cancels whatever is left and changes nothing else.',
    examples: { request: { reason: 'Card testing from this account' } },
  },
  'api/reactivate-account': {
    tag: 'Operators',
    summary: 'Reactivate an account (admin)',
    description: 'The account\'s keys work again. Jobs cancelled by the suspension stay cancelled. Reactivating an open account changes nothing.',
    examples: { request: { reason: 'Owner confirmed; chargeback withdrawn' } },
  },
  'api/list-admin-vouchers': {
    tag: 'Operators',
    summary: 'List vouchers (admin)',
    description: 'Every voucher, newest first, with its redemptions and status (`active` | `disabled` | `expired`); never its code.',
  },
  'api/get-admin-voucher': {
    tag: 'Operators',
    summary: 'Get a voucher (admin)',
    description: 'One voucher with its redemptions, status and, once disabled, who disabled it, when and why.',
  },
  'api/disable-voucher': {
    tag: 'Operators',
    summary: 'Disable a voucher (admin)',
    description: 'No further redemptions and no further monthly credits; credits already granted stay, including a monthly credit already decided for this month. Disabling a disabled voucher changes nothing.',
    examples: { request: { reason: 'Code posted publicly' } },
  },
  'api/list-admin-jobs': {
    tag: 'Operators',
    summary: 'List jobs of every account (admin)',
    description: 'Jobs of all accounts, newest first, each with its `account_id`; filtered by `status` and `account_id`.',
  },
} satisfies Record<HttpRoute['handler'], OperationDocs>;

/** Example ids of path parameters, by the collection the parameter names an item of. */
export const pathParameterExamples: Record<string, string> = {
  jobs: 'job_01jdq8m5x2v7k9a3b4c6d8e0fg',
  files: 'file_01jdq8n2c4v6x8z0b2d4f6h8jk',
  'api-keys': 'key_01jdq8p3d5w7y9a1c3e5g7j9km',
  'webhook-endpoints': 'whep_01jdq8q4e6x8z0b2d4f6h8k0mn',
  deliveries: 'msg_01jdq8r5f701jdq8r5f7y9a1c3',
  accounts: 'acct_01jdq8s6g8y0a2c4e6g8j0m2np',
  vouchers: 'vch_01jdq8t7h9z1b3d5f7h9k1n3pq',
};

/** What each problem type means, for the document and the reference. */
export const problemDescriptions: Record<ProblemType, string> = {
  invalid_request: 'Malformed JSON or a failed validation; each bad field is named in `errors`.',
  unauthorized: 'A missing, wrong or revoked key.',
  insufficient_balance: 'The account cannot pay for at least 60 seconds of the job.',
  account_suspended: 'An operator suspended the account: its keys are refused until it is reactivated.',
  request_timeout: 'The request did not arrive in time (the local stack; API Gateway answers this itself in AWS).',
  not_found: 'No such resource, or another account\'s (never 403, never its data).',
  conflict: 'The resource already exists, a request with this Idempotency-Key is still in progress, or a concurrent change won: the request changed nothing.',
  invalid_state: 'The resource is not in a state that allows this (e.g. cancelling a finished job).',
  quota_exceeded: 'A limit of the account that waiting will not lift (a job larger than the concurrent-GPU quota, a file over the storage quota): `quota` names it and its limit.',
  payload_too_large: 'The body is over 64 KiB, or the declared file is over the maximum size.',
  unsupported_media_type: 'The body is not JSON: send `Content-Type: application/json`.',
  idempotency_key_reuse: 'The Idempotency-Key was used with another request in the last 24 h.',
  invalid_upload: 'The uploaded bytes do not match what was declared.',
  rate_limited: 'A request limit or quota is used up for now; `Retry-After` says when to retry.',
  request_header_fields_too_large: 'The request line and headers are over 16 KiB (the local stack; API Gateway answers this itself in AWS).',
  internal_error: 'A defect: the request id is logged. Never an answer to bad input.',
};

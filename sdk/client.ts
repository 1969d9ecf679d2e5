import { AdminAccountBody, AdminAccountList, AdminJobList, AdminVoucherBody, AdminVoucherList, LedgerList } from '../events/api/admin';
import type * as z from 'zod';
import { AccountBody, SignupResponse, type SignupRequest } from '../events/api/accounts';
import { ApiKeyList, CreatedApiKeyBody, type CreateApiKeyRequest } from '../events/api/api-keys';
import { AnyProblem } from '../events/api/common';
import { JobBody, JobEventList, JobFileList, JobList, type CreateJobRequest, type JobStatus } from '../events/api/jobs';
import { UsageBody } from '../events/api/usage';
import { JobMetricsBody } from '../events/api/metrics';
import { PriceList } from '../events/api/prices';
import { CreditBody, RedeemVoucherResponse, VoucherBody, type CreateVoucherRequest } from '../events/api/vouchers';
import {
  CreatedWebhookEndpoint,
  RotatedWebhookSecret,
  WebhookDeliveryBody,
  WebhookDeliveryList,
  WebhookEndpointBody,
  WebhookEndpointList,
  type CreateWebhookEndpointRequest,
  type WebhookDeliveryStatus,
} from '../events/api/webhooks';
import { CompleteFileRequest, CreatedFile, FileBody, FileList, ResumedUpload, type CreateFileRequest } from '../events/api/files';
import { SxApiError, SxConnectionError, SxResponseError } from './errors';
import { uploadFile, type UploadOptions } from './upload';

export type Job = JobBody;
export type JobEvent = z.infer<typeof JobEventList>['data'][number];
export type Account = AccountBody;
export type JobStatusName = z.infer<typeof JobStatus>;
export type MetricSeries = JobMetricsBody['data'][number];
export type MetricPoint = MetricSeries['last'];
export type Credit = z.infer<typeof RedeemVoucherResponse>['credit'];
export type Voucher = z.infer<typeof VoucherBody>;
export type UsageReport = z.infer<typeof UsageBody>;
export type UsageLine = UsageReport['data'][number];
export type Prices = z.infer<typeof PriceList>;
export type ApiKey = z.infer<typeof ApiKeyList>['data'][number];
export type CreatedApiKey = z.infer<typeof CreatedApiKeyBody>;
export type WebhookEndpoint = z.infer<typeof WebhookEndpointBody>;
export type SxFile = FileBody;
/** An endpoint with its signing secret: only in the answers to its creation and to a rotation. */
export type WebhookEndpointWithSecret = z.infer<typeof CreatedWebhookEndpoint>;
export type WebhookDelivery = z.infer<typeof WebhookDeliveryBody>;
export type WebhookDeliveryStatusName = z.infer<typeof WebhookDeliveryStatus>;

/** A page of a list: newest first; pass `next_cursor` back as `cursor` for the next one. */
export interface Page<T> {
  data: T[];
  has_more: boolean;
  next_cursor: string | null;
}

export interface SxClientOptions {
  /** `sk_…`; needed by everything but `signup`. */
  apiKey?: string;
  /** @default 'http://127.0.0.1:3000' (the local stack) */
  baseUrl?: string;
  /** @default globalThis.fetch */
  fetch?: typeof fetch;
  /** Retries of a failed connection, 429 or 502/503/504, for requests safe to repeat. @default 3 */
  maxRetries?: number;
  /** First backoff delay; it doubles each retry, with jitter, capped at 8 s. @default 500 */
  retryDelayMs?: number;
  /** Per attempt. @default 30000 */
  timeoutMs?: number;
  /** Told before each retry (the CLI reports it on stderr). */
  onRetry?: (info: { request: string; attempt: number; delayMs: number; reason: string }) => void;
}

/** The final statuses: a job in one of them never changes again. */
export const FINAL_STATUSES: ReadonlySet<JobStatusName> = new Set(['succeeded', 'failed', 'cancelled']);
export const isFinal = (job: Pick<Job, 'status'>) => FINAL_STATUSES.has(job.status);

interface RequestOptions<S extends z.ZodType | undefined> {
  body?: unknown;
  query?: Record<string, string | number | undefined>;
  /** Validates the 2xx answer; undefined: no body expected (204) or text. */
  schema?: S;
  text?: boolean;
  /** Answers with the `Location` of a 302 instead of following it. */
  location?: boolean;
  idempotencyKey?: string;
  /** The operator's name (`X-Operator`), on the operators' routes. */
  operator?: string;
  /** Whether repeating the request is harmless (GET, DELETE, a POST with an Idempotency-Key). */
  retry: boolean;
  signal?: AbortSignal;
}

const RETRY_STATUSES = new Set([429, 502, 503, 504]);
const MAX_DELAY_MS = 8_000;

/**
 * A small typed client for the suanxiang-cloud API (API.md). It uses only `fetch` and Web APIs, so
 * it runs on Node 20+ and in browsers. Requests and responses are typed from the same zod schemas
 * the server validates with, and every answer is checked against them.
 *
 * Failures: an API error is an {@link SxApiError} (its problem `type`, status and detail); a network
 * failure that outlasts the retries is an {@link SxConnectionError}; a 2xx body that does not match
 * the schema is an {@link SxResponseError}. Requests that are safe to repeat (reads, deletes,
 * cancels and creations carrying an Idempotency-Key, which `jobs.create` always sends) are retried
 * with exponential backoff on connection failures, 429 and 502–504.
 */
export class SxClient {
  readonly baseUrl: string;
  private readonly apiKey: string | undefined;
  private readonly fetchFn: typeof fetch;
  private readonly maxRetries: number;
  private readonly retryDelayMs: number;
  private readonly timeoutMs: number;
  private readonly onRetry: SxClientOptions['onRetry'];

  constructor(options: SxClientOptions = {}) {
    this.baseUrl = (options.baseUrl ?? 'http://127.0.0.1:3000').replace(/\/+$/, '');
    this.apiKey = options.apiKey;
    // Bound, so that a browser's fetch is not called with the client as `this`.
    this.fetchFn = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.maxRetries = options.maxRetries ?? 3;
    this.retryDelayMs = options.retryDelayMs ?? 500;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.onRetry = options.onRetry;
  }

  /**
   * `POST /v1/signup`: a new account with the trial, and its API key (shown once). 409 `conflict` for
   * a known email. Sends an Idempotency-Key (random unless given), so a retry after a lost answer
   * gets the same account and key rather than a 409 that would leave the key unknown.
   */
  signup(body: SignupRequest, options: { idempotencyKey?: string } = {}) {
    return this.request('POST', '/v1/signup', {
      body,
      schema: SignupResponse,
      idempotencyKey: options.idempotencyKey ?? newIdempotencyKey(),
      retry: true,
    });
  }

  /** `GET /v1/account`: the trial, credits and what is held. */
  account() {
    return this.request('GET', '/v1/account', { schema: AccountBody, retry: true });
  }

  readonly jobs = {
    /**
     * `POST /v1/jobs`. Always sends an Idempotency-Key (a random one unless given), so a retried
     * request never starts a second job. 402 `insufficient_balance` when the account cannot pay 60 s.
     */
    create: (body: CreateJobRequest, options: { idempotencyKey?: string } = {}) =>
      this.request('POST', '/v1/jobs', {
        body,
        schema: JobBody,
        idempotencyKey: options.idempotencyKey ?? newIdempotencyKey(),
        retry: true,
      }),
    /** `GET /v1/jobs`: one page, newest first. */
    list: (params: { limit?: number; cursor?: string; status?: JobStatusName } = {}): Promise<Page<Job>> =>
      this.request('GET', '/v1/jobs', { query: params, schema: JobList, retry: true }),
    /** Every job (optionally of one status), newest first, fetching pages as the loop asks for them. */
    listAll: (params: { status?: JobStatusName; pageSize?: number } = {}): AsyncIterable<Job> =>
      paginate((cursor) => this.jobs.list({ status: params.status, limit: params.pageSize, cursor })),
    get: (id: string) => this.request('GET', `/v1/jobs/${encodeURIComponent(id)}`, { schema: JobBody, retry: true }),
    /** `POST /v1/jobs/{id}/cancel`. Cancelling twice is harmless; a final job is 409 `invalid_state`. */
    cancel: (id: string) =>
      this.request('POST', `/v1/jobs/${encodeURIComponent(id)}/cancel`, { schema: JobBody, retry: true }),
    /** `GET /v1/jobs/{id}/events`: the job's history, oldest first. */
    events: async (id: string): Promise<JobEvent[]> =>
      (await this.request('GET', `/v1/jobs/${encodeURIComponent(id)}/events`, { schema: JobEventList, retry: true })).data,
    /** `GET /v1/jobs/{id}/outputs`: the files the job left in its output directory, with signed URLs (1 h); empty until it is final. */
    outputs: async (id: string) => (await this.request('GET', `/v1/jobs/${encodeURIComponent(id)}/outputs`, { schema: JobFileList, retry: true })).data,
    /** `GET /v1/jobs/{id}/checkpoints`: its checkpoint directory as last saved, with signed URLs (1 h). */
    checkpoints: async (id: string) => (await this.request('GET', `/v1/jobs/${encodeURIComponent(id)}/checkpoints`, { schema: JobFileList, retry: true })).data,
    /** `GET /v1/jobs/{id}/logs`: the whole output so far, as text. */
    logs: (id: string, options: { signal?: AbortSignal } = {}) =>
      this.request('GET', `/v1/jobs/${encodeURIComponent(id)}/logs`, { text: true, retry: true, signal: options.signal }),
    /**
     * `GET /v1/jobs/{id}/metrics`: each metric read from the job's log so far (or only `name`), oldest
     * point first, downsampled to `maxPoints` (2–10000, default 1000) keeping the first and last points.
     */
    metrics: async (id: string, params: { name?: string; maxPoints?: number } = {}): Promise<MetricSeries[]> =>
      (
        await this.request('GET', `/v1/jobs/${encodeURIComponent(id)}/metrics`, {
          query: { name: params.name, max_points: params.maxPoints },
          schema: JobMetricsBody,
          retry: true,
        })
      ).data,
    /**
     * Follows a job by polling: yields the job and the part of its log that is new since the last
     * yield, every `intervalMs`, and a last time once the job is final (with the rest of its log).
     * Ends when the job is final or `signal` aborts.
     */
    follow: (id: string, options: { intervalMs?: number; signal?: AbortSignal } = {}) => this.follow(id, options),
  };

  readonly vouchers = {
    /**
     * `POST /v1/vouchers/redeem`: the credit it added. 404 `not_found` for an unknown or expired code,
     * 409 `conflict` if it is used up or this account redeemed it before. Sends an Idempotency-Key
     * (random unless given), so a retry after a lost answer returns the same credit instead of a 409.
     */
    redeem: (code: string, options: { idempotencyKey?: string } = {}) =>
      this.request('POST', '/v1/vouchers/redeem', {
        body: { code },
        schema: RedeemVoucherResponse,
        idempotencyKey: options.idempotencyKey ?? newIdempotencyKey(),
        retry: true,
      }),
  };

  /**
   * Operator routes: need a client made with the admin key (`SX_ADMIN_KEY`), not a customer's;
   * a customer key gets 401 `unauthorized`.
   */
  readonly admin = {
    vouchers: {
      /** `POST /v1/admin/vouchers`: a voucher and its code, shown this once. */
      create: (body: CreateVoucherRequest, options: { idempotencyKey?: string } = {}) =>
        this.request('POST', '/v1/admin/vouchers', {
          body,
          schema: VoucherBody,
          idempotencyKey: options.idempotencyKey ?? newIdempotencyKey(),
          retry: true,
        }),
      /** `GET /v1/admin/vouchers`: every voucher, newest first (never its code). */
      list: (params: { limit?: number; cursor?: string } = {}) =>
        this.request('GET', '/v1/admin/vouchers', { query: params, schema: AdminVoucherList, retry: true }),
      /** `GET /v1/admin/vouchers/{id}`. */
      get: (id: string) => this.request('GET', `/v1/admin/vouchers/${encodeURIComponent(id)}`, { schema: AdminVoucherBody, retry: true }),
      /** `POST /v1/admin/vouchers/{id}/disable`: no more redemptions nor monthly credits. */
      disable: (id: string, reason: string, operator: string) =>
        this.request('POST', `/v1/admin/vouchers/${encodeURIComponent(id)}/disable`, { body: { reason }, operator, schema: AdminVoucherBody, retry: true }),
    },
    accounts: {
      /** `GET /v1/admin/accounts?email=`: accounts whose email starts with the prefix. */
      search: (params: { email?: string; limit?: number; cursor?: string } = {}) =>
        this.request('GET', '/v1/admin/accounts', { query: params, schema: AdminAccountList, retry: true }),
      /** `GET /v1/admin/accounts/{id}`. */
      get: (id: string) => this.request('GET', `/v1/admin/accounts/${encodeURIComponent(id)}`, { schema: AdminAccountBody, retry: true }),
      /** `GET /v1/admin/accounts/{id}/ledger`: the statement, oldest first. */
      ledger: (id: string, params: { limit?: number; cursor?: string } = {}) =>
        this.request('GET', `/v1/admin/accounts/${encodeURIComponent(id)}/ledger`, { query: params, schema: LedgerList, retry: true }),
      /** `POST /v1/admin/accounts/{id}/credits`: a goodwill or refund credit. */
      credit: (id: string, body: { amount: { amount: number; currency: 'CNY' }; expires_at?: string; reason: string }, operator: string, options: { idempotencyKey?: string } = {}) =>
        this.request('POST', `/v1/admin/accounts/${encodeURIComponent(id)}/credits`, {
          body,
          operator,
          schema: CreditBody,
          idempotencyKey: options.idempotencyKey ?? newIdempotencyKey(),
          retry: true,
        }),
      /** `POST /v1/admin/accounts/{id}/suspend`. */
      suspend: (id: string, reason: string, operator: string) =>
        this.request('POST', `/v1/admin/accounts/${encodeURIComponent(id)}/suspend`, { body: { reason }, operator, schema: AdminAccountBody, retry: true }),
      /** `POST /v1/admin/accounts/{id}/reactivate`. */
      reactivate: (id: string, reason: string, operator: string) =>
        this.request('POST', `/v1/admin/accounts/${encodeURIComponent(id)}/reactivate`, { body: { reason }, operator, schema: AdminAccountBody, retry: true }),
    },
    /** `GET /v1/admin/jobs?status=&account_id=`: jobs of every account, newest first. */
    jobs: (params: { status?: string; account_id?: string; limit?: number; cursor?: string } = {}) =>
      this.request('GET', '/v1/admin/jobs', { query: params, schema: AdminJobList, retry: true }),
  };

  /**
   * `GET /v1/usage?from=&to=` (ISO 8601 times): one line per job and funding source whose billed
   * period ended in [from, to), and the total. A projection: it may lag a moment behind a job's end.
   */
  usage(params: { from?: string; to?: string } = {}): Promise<UsageReport> {
    return this.request('GET', '/v1/usage', { query: params, schema: UsageBody, retry: true });
  }

  /** `GET /v1/prices` (no key needed): the price per GPU-hour of each GPU type and the hold rules. */
  prices(): Promise<PriceList> {
    return this.request('GET', '/v1/prices', { schema: PriceList, retry: true });
  }

  /** `GET /v1/openapi.json` (no key needed): the OpenAPI 3.1 document of the API, as JSON. */
  async openApi(): Promise<Record<string, unknown>> {
    return (await this.request('GET', '/v1/openapi.json', { text: true, retry: true }).then((text) => JSON.parse(text))) as Record<string, unknown>;
  }

  readonly webhookEndpoints = {
    /**
     * `POST /v1/webhook-endpoints`: the answer holds the signing secret, shown once. `events` omitted:
     * every type. 400 `invalid_request` for a URL the service will not call.
     */
    create: (body: CreateWebhookEndpointRequest, options: { idempotencyKey?: string } = {}) =>
      this.request('POST', '/v1/webhook-endpoints', {
        body,
        schema: CreatedWebhookEndpoint,
        idempotencyKey: options.idempotencyKey ?? newIdempotencyKey(),
        retry: true,
      }),
    /** `GET /v1/webhook-endpoints`: all of them (an account has at most 16), newest first. */
    list: (): Promise<Page<WebhookEndpoint>> =>
      this.request('GET', '/v1/webhook-endpoints', { schema: WebhookEndpointList, retry: true }),
    /** `GET /v1/webhook-endpoints/{id}`: 404 `not_found` for an unknown or deleted one. */
    get: (id: string) => this.request('GET', `/v1/webhook-endpoints/${encodeURIComponent(id)}`, { schema: WebhookEndpointBody, retry: true }),
    /** `DELETE /v1/webhook-endpoints/{id}`: no more deliveries to it. */
    delete: async (id: string): Promise<void> => {
      await this.request('DELETE', `/v1/webhook-endpoints/${encodeURIComponent(id)}`, { retry: true });
    },
    /**
     * `POST /v1/webhook-endpoints/{id}/rotate-secret`: a new secret, shown once; the old one keeps
     * signing beside it for `expire_previous_in_seconds` (24 h by default). Not retried: a repeat
     * would rotate again (harmlessly, but the secret you were shown would no longer be the newest).
     */
    rotateSecret: (id: string, body: { expire_previous_in_seconds?: number } = {}) =>
      this.request('POST', `/v1/webhook-endpoints/${encodeURIComponent(id)}/rotate-secret`, { body, schema: RotatedWebhookSecret, retry: false }),
    /** `POST /v1/webhook-endpoints/{id}/enable`: resumes deliveries to a disabled endpoint (enabling an enabled one changes nothing). */
    enable: (id: string) =>
      this.request('POST', `/v1/webhook-endpoints/${encodeURIComponent(id)}/enable`, { schema: WebhookEndpointBody, retry: true }),
    /** `GET /v1/webhook-endpoints/{id}/deliveries`: one page, newest first, each with its attempts. */
    deliveries: (id: string, params: { limit?: number; cursor?: string; status?: WebhookDeliveryStatusName } = {}): Promise<Page<WebhookDelivery>> =>
      this.request('GET', `/v1/webhook-endpoints/${encodeURIComponent(id)}/deliveries`, { query: params, schema: WebhookDeliveryList, retry: true }),
    /** Every delivery to an endpoint (optionally of one status), newest first, page by page as the loop asks. */
    listAllDeliveries: (id: string, params: { status?: WebhookDeliveryStatusName; pageSize?: number } = {}): AsyncIterable<WebhookDelivery> =>
      paginate((cursor) => this.webhookEndpoints.deliveries(id, { status: params.status, limit: params.pageSize, cursor })),
    /**
     * `POST /v1/webhook-endpoints/{id}/deliveries/{delivery_id}/retry` → 202: sends it again (same
     * `webhook-id` and body) at the sender's next run. 409 `invalid_state` while the endpoint is
     * disabled or an attempt is in flight.
     */
    retryDelivery: (id: string, deliveryId: string) =>
      this.request('POST', `/v1/webhook-endpoints/${encodeURIComponent(id)}/deliveries/${encodeURIComponent(deliveryId)}/retry`, {
        schema: WebhookDeliveryBody,
        retry: true,
      }),
  };

  readonly files = {
    /**
     * Uploads a file: `source` is a path (Node) or a Blob (browsers and Node). Parts go straight to
     * object storage by signed URLs, several at once; `onProgress` is told as each part lands.
     * `resumeFileId` continues an interrupted upload of the same bytes. @returns the `ready` file.
     */
    upload: (source: string | Blob, options: UploadOptions = {}): Promise<SxFile> =>
      uploadFile(
        {
          create: (body) => this.files.create(body),
          get: (id) => this.files.get(id),
          resumeUpload: (id) => this.files.resumeUpload(id),
          complete: (id, parts) => this.files.complete(id, { parts }),
          fetch: this.fetchFn,
        },
        source,
        options,
      ),
    /** `POST /v1/files`: declares a file; the answer signs one PUT URL per part. */
    create: (body: CreateFileRequest, options: { idempotencyKey?: string } = {}) =>
      this.request('POST', '/v1/files', { body, schema: CreatedFile, idempotencyKey: options.idempotencyKey ?? newIdempotencyKey(), retry: true }),
    /** `POST /v1/files/{id}/complete`: 422 `invalid_upload` when parts or bytes differ from what was declared. */
    complete: (id: string, body: z.input<typeof CompleteFileRequest>) =>
      this.request('POST', `/v1/files/${encodeURIComponent(id)}/complete`, { body, schema: FileBody, retry: true }),
    /** `POST /v1/files/{id}/upload`: the parts already uploaded, and fresh URLs for the rest. */
    resumeUpload: (id: string) => this.request('POST', `/v1/files/${encodeURIComponent(id)}/upload`, { schema: ResumedUpload, retry: true }),
    /** `GET /v1/files`: one page, newest first. */
    list: (params: { limit?: number; cursor?: string; purpose?: 'dataset' | 'model' | 'other' } = {}): Promise<Page<SxFile>> =>
      this.request('GET', '/v1/files', { query: params, schema: FileList, retry: true }),
    /** Every file (optionally of one purpose), newest first. */
    listAll: (params: { purpose?: 'dataset' | 'model' | 'other'; pageSize?: number } = {}): AsyncIterable<SxFile> =>
      paginate((cursor) => this.files.list({ purpose: params.purpose, limit: params.pageSize, cursor })),
    get: (id: string) => this.request('GET', `/v1/files/${encodeURIComponent(id)}`, { schema: FileBody, retry: true }),
    /** `DELETE /v1/files/{id}`: the file and its bytes; its storage is free at once. */
    delete: async (id: string): Promise<void> => {
      await this.request('DELETE', `/v1/files/${encodeURIComponent(id)}`, { retry: true });
    },
    /** `GET /v1/files/{id}/content`: the signed URL (valid at most 1 h) the API redirects to. Node only (a browser hides redirects). */
    contentUrl: (id: string) => this.request('GET', `/v1/files/${encodeURIComponent(id)}/content`, { location: true, retry: true }),
  };

  readonly apiKeys = {
    /** `POST /v1/api-keys`: another key for this account (with an optional name), shown once. */
    create: (body: CreateApiKeyRequest = {}, options: { idempotencyKey?: string } = {}) =>
      this.request('POST', '/v1/api-keys', {
        body,
        schema: CreatedApiKeyBody,
        idempotencyKey: options.idempotencyKey ?? newIdempotencyKey(),
        retry: true,
      }),
    /** `GET /v1/api-keys`: one page of the account's active keys, newest first, never their secrets. */
    list: (params: { limit?: number; cursor?: string } = {}): Promise<Page<ApiKey>> =>
      this.request('GET', '/v1/api-keys', { query: params, schema: ApiKeyList, retry: true }),
    /** Every active key, newest first. */
    listAll: (params: { pageSize?: number } = {}): AsyncIterable<ApiKey> =>
      paginate((cursor) => this.apiKeys.list({ limit: params.pageSize, cursor })),
    /** `DELETE /v1/api-keys/{id}`: revoked at once (it gets 401 from then on). 404 `not_found` for an unknown key. */
    revoke: async (id: string): Promise<void> => {
      await this.request('DELETE', `/v1/api-keys/${encodeURIComponent(id)}`, { retry: true });
    },
  };

  private async *follow(id: string, { intervalMs = 1000, signal }: { intervalMs?: number; signal?: AbortSignal }) {
    let shown = 0;
    for (;;) {
      // The job first, then the logs: once the job is final its log is complete, so the last read misses nothing.
      const job = await this.jobs.get(id);
      const logs = await this.jobs.logs(id, { signal });
      const newLogs = logs.length > shown ? logs.slice(shown) : '';
      shown = Math.max(shown, logs.length);
      yield { job, newLogs };
      if (isFinal(job) || signal?.aborted) return;
      await delay(intervalMs, signal);
      if (signal?.aborted) return;
    }
  }

  /** One request with retries; see the class comment for what is retried. */
  private async request<S extends z.ZodType | undefined = undefined>(
    method: string,
    path: string,
    options: RequestOptions<S> & { text: true },
  ): Promise<string>;
  private async request<S extends z.ZodType | undefined = undefined>(
    method: string,
    path: string,
    options: RequestOptions<S> & { location: true },
  ): Promise<string>;
  private async request<S extends z.ZodType>(method: string, path: string, options: RequestOptions<S> & { schema: S }): Promise<z.infer<S>>;
  private async request(method: string, path: string, options: RequestOptions<undefined>): Promise<void>;
  private async request(method: string, path: string, options: RequestOptions<z.ZodType | undefined>): Promise<unknown> {
    const url = this.baseUrl + path + queryString(options.query);
    const what = `${method} ${path}`;
    const headers: Record<string, string> = { accept: options.text ? 'text/plain, application/problem+json' : 'application/json' };
    if (this.apiKey) headers.authorization = `Bearer ${this.apiKey}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    if (options.idempotencyKey) headers['idempotency-key'] = options.idempotencyKey;
    if (options.operator) headers['x-operator'] = options.operator;
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    const attempts = options.retry ? this.maxRetries + 1 : 1;

    for (let attempt = 1; ; attempt++) {
      let response: Response;
      try {
        const timeout = AbortSignal.timeout(this.timeoutMs);
        const signal = options.signal ? anySignal([options.signal, timeout]) : timeout;
        response = await this.fetchFn(url, { method, headers, body, signal, redirect: options.location ? 'manual' : 'follow' });
      } catch (error) {
        if (options.signal?.aborted) throw error;
        if (attempt >= attempts) throw new SxConnectionError(this.baseUrl, attempt, error);
        await this.backoff(what, attempt, null, describe(error), options.signal);
        continue;
      }
      if (options.location && response.status === 302) {
        await response.body?.cancel();
        return response.headers.get('location') ?? '';
      }
      if (response.ok) return this.read(response, what, options);
      if (RETRY_STATUSES.has(response.status) && attempt < attempts) {
        await response.body?.cancel();
        await this.backoff(what, attempt, response.headers.get('retry-after'), `HTTP ${response.status}`, options.signal);
        continue;
      }
      throw new SxApiError(await problemOf(response), what);
    }
  }

  private async read(response: Response, what: string, options: RequestOptions<z.ZodType | undefined>): Promise<unknown> {
    if (options.text) return response.text();
    if (!options.schema) {
      await response.body?.cancel();
      return undefined;
    }
    let json: unknown;
    try {
      json = await response.json();
    } catch {
      throw new SxResponseError(what, 'the body is not JSON');
    }
    const parsed = options.schema.safeParse(json);
    if (!parsed.success) {
      throw new SxResponseError(what, parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '));
    }
    return parsed.data;
  }

  private async backoff(what: string, attempt: number, retryAfter: string | null, reason: string, signal?: AbortSignal) {
    const exponential = Math.min(MAX_DELAY_MS, this.retryDelayMs * 2 ** (attempt - 1));
    // Full jitter keeps many clients that failed together from retrying together.
    let delayMs = Math.round(exponential / 2 + (Math.random() * exponential) / 2);
    const seconds = retryAfter === null ? NaN : Number(retryAfter);
    if (Number.isFinite(seconds) && seconds >= 0) delayMs = Math.min(MAX_DELAY_MS * 4, seconds * 1000);
    this.onRetry?.({ request: what, attempt, delayMs, reason });
    await delay(delayMs, signal);
  }
}

/**
 * Turns any cursor-paged list into an async iterable of its items, fetching the next page only
 * when the loop gets to it. A failed page rejects the loop with that page's error.
 */
export async function* paginate<T>(fetchPage: (cursor: string | undefined) => Promise<Page<T>>): AsyncIterable<T> {
  let cursor: string | undefined;
  for (;;) {
    const page = await fetchPage(cursor);
    yield* page.data;
    if (!page.has_more || !page.next_cursor) return;
    cursor = page.next_cursor;
  }
}

/** A fresh Idempotency-Key (a random UUID, from Web Crypto: Node 20+ and browsers). */
export const newIdempotencyKey = () => globalThis.crypto.randomUUID();

function queryString(query: Record<string, string | number | undefined> = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined && value !== '') params.set(key, String(value));
  const text = params.toString();
  return text ? `?${text}` : '';
}

/** The problem of an error answer; a gateway's non-JSON error still becomes one readable problem. */
async function problemOf(response: Response): Promise<AnyProblem> {
  const text = await response.text().catch(() => '');
  try {
    const parsed = AnyProblem.safeParse(JSON.parse(text));
    if (parsed.success) return parsed.data;
  } catch {
    // not JSON: fall through
  }
  // API Gateway answers an unknown route with {"message":"Not Found"}: every problem of the API is
  // problem+json, so a 404 without one means the route itself is missing.
  return {
    type: response.status === 404 ? 'not_found' : `http_${response.status}`,
    title: response.status === 404 ? 'No route' : response.statusText || `HTTP ${response.status}`,
    status: response.status,
    detail: text.trim().slice(0, 200) || undefined,
  };
}

function describe(error: unknown): string {
  const cause = error instanceof Error ? ((error as { cause?: { code?: string } }).cause?.code ?? error.message) : String(error);
  return String(cause);
}

/** AbortSignal.any is Node 20.3+ and recent browsers; this covers both without it. */
function anySignal(signals: AbortSignal[]): AbortSignal {
  const controller = new AbortController();
  for (const signal of signals) {
    if (signal.aborted) {
      controller.abort(signal.reason);
      break;
    }
    signal.addEventListener('abort', () => controller.abort(signal.reason), { once: true });
  }
  return controller.signal;
}

function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

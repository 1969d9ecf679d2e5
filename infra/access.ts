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
  /** The views table (read models): `read` = GetItem/Query, `write` = PutItem (views are upserted, never deleted). */
  views?: ReadonlyArray<'read' | 'write'>;
  /**
   * AWS Batch: `submit` (SubmitJob on the project's queues and job definitions, tagging the new job),
   * `terminate` (TerminateJob), `describe` (DescribeJobs/ListJobs: these have no resource-level permissions).
   */
  batch?: ReadonlyArray<'submit' | 'terminate' | 'describe'>;
  /** Read the Batch job log group (a job's output). */
  jobLogs?: boolean;
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
export type HandlerKind = 'http' | 'stream' | 'event' | 'schedule';

/**
 * The default for an undeclared handler: what a handler of that kind typically needs (an API
 * route reads streams to authenticate and appends; a projection reads events and writes views).
 */
export const defaultAccess: Record<HandlerKind, HandlerAccess> = {
  http: { events: ['read', 'append'], views: ['read'], adminKey: true },
  stream: { events: ['read'], views: ['read', 'write'] },
  event: { events: ['read', 'append'] },
  schedule: { events: ['read', 'append'], views: ['read'] },
};

export const handlerAccess: Record<string, HandlerAccess> = {
  'api/signup': { events: ['read', 'append'] },
  'api/get-account': { events: ['read'] },
  'api/create-job': { events: ['read', 'append'] },
  'api/list-jobs': { events: ['read'], views: ['read'] },
  'api/get-job': { events: ['read'] },
  'api/cancel-job': { events: ['read', 'append'] },
  'api/list-job-events': { events: ['read'] },
  // The log stream of a Batch job is found with DescribeJobs, then read from the job log group.
  'api/get-job-logs': { events: ['read'], batch: ['describe'], jobLogs: true },
  'project-job-views': { events: ['read'], views: ['write'] },
  // Submit finds an existing job of the same name first (ListJobs/DescribeJobs), so a redelivery never runs a job twice.
  'dispatch-jobs': { events: ['read', 'append'], batch: ['submit', 'terminate', 'describe'] },
  'batch-events': { events: ['read', 'append'] },
};

/**
 * Routes served without an API key (no authorizer in front). Everything else needs
 * `Authorization: Bearer …` (an API key or the admin key). From API.md.
 */
export const publicRoutes: ReadonlySet<string> = new Set(['POST /v1/signup', 'GET /v1/openapi.json']);

import type { Deps } from '../deps';
import { route, type RouteOptions } from '../http/route';
import { lambda } from '../lambda';
import { loadOwnJob } from './job-route';

/** GET /v1/jobs/{id}/logs: the job's combined output so far, as text. */
/** The body is `text/plain`, so there is no JSON schema to give. */
export const schemas = {};

export const options: RouteOptions = { auth: 'key' };

export const make = (deps: Deps) =>
  route(deps, options, async (request) => {
    const { state } = await loadOwnJob(deps, request);
    const logs = await deps.files.readLogs(state.job.jobId);
    return { statusCode: 200, headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' }, body: logs };
  });

export const handler = lambda(make);

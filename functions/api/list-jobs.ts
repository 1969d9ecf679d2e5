import { JobList, ListJobsQuery } from '../../events/api/jobs';
import type { Deps } from '../deps';
import { invalidRequest } from '../http/problem';
import { json, parse, route, type RouteOptions } from '../http/route';
import { lambda } from '../lambda';
import { listJobViews } from '../views/job-views';
import { presentJob } from './present';

export const schemas = { query: ListJobsQuery, response: JobList };

const encodeCursor = (after: string) => Buffer.from(JSON.stringify({ after }), 'utf8').toString('base64url');
function decodeCursor(cursor: string): string {
  try {
    const { after } = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { after?: unknown };
    if (typeof after === 'string' && /^job_[0-9a-z]{26}$/.test(after)) return after;
  } catch {
    // fall through: any undecodable cursor is the same client error
  }
  throw invalidRequest('The cursor is not one this API returned', [{ path: 'cursor', message: 'invalid cursor' }]);
}

/** GET /v1/jobs: the caller's jobs, newest first, from the job views projection. */
export const options: RouteOptions = { auth: 'key' };

export const make = (deps: Deps) =>
  route(deps, options, async ({ event, accountId }) => {
    const query = parse(ListJobsQuery, event.queryStringParameters ?? {}, 'query');
    const page = await listJobViews(deps, accountId, {
      limit: query.limit,
      after: query.cursor ? decodeCursor(query.cursor) : undefined,
      status: query.status,
    });
    const now = deps.now();
    return json(200, {
      object: 'list',
      data: page.jobs.map((job) => presentJob(job, now, deps.files)),
      has_more: page.after !== null,
      next_cursor: page.after ? encodeCursor(page.after) : null,
    });
  });

export const handler = lambda(make);

import { JobList, ListJobsQuery } from '../../events/api/jobs';
import type { Deps } from '../deps';
import { decodeCursor, encodeCursor } from '../http/cursor';
import { json, parse, route, type RouteOptions } from '../http/route';
import { lambda } from '../lambda';
import { listJobViews } from '../views/job-views';
import { presentJob } from './present';

export const schemas = { query: ListJobsQuery, response: JobList };

/** GET /v1/jobs: the caller's jobs, newest first, from the job views projection. */
export const options: RouteOptions = { auth: 'key' };

export const make = (deps: Deps) =>
  route(deps, options, async ({ event, accountId }) => {
    const query = parse(ListJobsQuery, event.queryStringParameters ?? {}, 'query');
    const page = await listJobViews(deps, accountId, {
      limit: query.limit,
      after: query.cursor ? decodeCursor(query.cursor, /^job_[0-9a-z]{26}$/) : undefined,
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

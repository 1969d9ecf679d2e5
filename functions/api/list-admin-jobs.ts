import { AdminJobList, AdminJobsQuery } from '../../events/api/admin';
import type { Deps } from '../deps';
import { decodeCursor, encodeCursor } from '../http/cursor';
import { json, parse, route, type RouteOptions } from '../http/route';
import { lambda } from '../lambda';
import { listAllJobs } from '../views/admin-views';
import { listJobViews } from '../views/job-views';
import { presentJob } from './present';

export const schemas = { query: AdminJobsQuery, response: AdminJobList };

export const options: RouteOptions = { auth: 'admin' };

/** GET /v1/admin/jobs?status=&account_id=: jobs of every account (or of one), newest first. */
export const make = (deps: Deps) =>
  route(deps, options, async ({ event }) => {
    const query = parse(AdminJobsQuery, event.queryStringParameters ?? {}, 'query');
    const options = { limit: query.limit, after: query.cursor ? decodeCursor(query.cursor, /^job_[0-9a-z]{26}$/) : undefined, status: query.status };
    const page = query.account_id ? await listJobViews(deps, query.account_id, options) : await listAllJobs(deps, options);
    const now = deps.now();
    return json(200, {
      object: 'list',
      data: page.jobs.map((job) => ({ ...presentJob(job, now, deps.files), account_id: job.job.accountId })),
      has_more: page.after !== null,
      next_cursor: page.after ? encodeCursor(page.after) : null,
    });
  });

export const handler = lambda(make);

import { JobBody } from '../../events/api/jobs';
import type { Deps } from '../deps';
import { json, route, type RouteOptions } from '../http/route';
import { lambda } from '../lambda';
import { loadOwnJob } from './job-route';
import { presentJob } from './present';

/** GET /v1/jobs/{id}: read from the job's own stream, so it is never behind a write just made. */
export const schemas = { response: JobBody };

export const options: RouteOptions = { auth: 'key' };

export const make = (deps: Deps) =>
  route(deps, options, async (request) => {
    const { state } = await loadOwnJob(deps, request);
    return json(200, presentJob(state, deps.now(), deps.files));
  });

export const handler = lambda(make);

import { JobEventList } from '../../events/api/jobs';
import type { Deps } from '../deps';
import { json, route, type RouteOptions } from '../http/route';
import { lambda } from '../lambda';
import { loadOwnJob } from './job-route';
import { presentJobEvents } from './present';

/** GET /v1/jobs/{id}/events: the job's history as recorded, oldest first. */
export const schemas = { response: JobEventList };

export const options: RouteOptions = { auth: 'key' };

export const make = (deps: Deps) =>
  route(deps, options, async (request) => {
    const { events } = await loadOwnJob(deps, request);
    return json(200, { object: 'list', data: presentJobEvents(events, deps.files) });
  });

export const handler = lambda(make);

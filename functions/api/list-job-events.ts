import { JobEventList } from '../../events/api/jobs';
import type { Deps } from '../deps';
import { json, route } from '../http/route';
import { lambda } from '../lambda';
import { loadOwnJob } from './job-route';
import { presentJobEvents } from './present';

/** GET /v1/jobs/{id}/events: the job's history as recorded, oldest first. */
export const schemas = { response: JobEventList };

export const make = (deps: Deps) =>
  route(deps, { auth: 'key' }, async (request) => {
    const { events } = await loadOwnJob(deps, request);
    return json(200, { object: 'list', data: presentJobEvents(events, deps.files) });
  });

export const handler = lambda(make);

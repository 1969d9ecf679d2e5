import { JobBody } from '../../events/api/jobs';
import type { Deps } from '../deps';
import { runJobCommand } from '../job-commands';
import { json, route, type RouteOptions } from '../http/route';
import { lambda } from '../lambda';
import { loadOwnJob } from './job-route';
import { presentJob } from './present';

/**
 * POST /v1/jobs/{id}/cancel: a queued job is cancelled (and its hold released) at once; a started one
 * is stopped by the compute side and becomes `cancelled`, billed for what it ran, when that is confirmed.
 */
export const schemas = { response: JobBody };

export const options: RouteOptions = { auth: 'key' };

export const make = (deps: Deps) =>
  route(deps, options, async (request) => {
    const { state: owned } = await loadOwnJob(deps, request);
    const state = await runJobCommand(deps, owned.job.jobId, (now) => ({ type: 'RequestCancel', data: {}, metadata: { now } }), {
      owner: request.accountId,
      metadata: { actor: request.accountId },
    });
    return json(200, presentJob(state, deps.now(), deps.files));
  });

export const handler = lambda(make);

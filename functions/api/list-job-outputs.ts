import { JobFileList } from '../../events/api/jobs';
import { outputPrefix } from '../adapters/compute';
import type { Deps } from '../deps';
import { json, route, type RouteOptions } from '../http/route';
import { lambda } from '../lambda';
import { signedListing } from './job-data-route';
import { isFinal } from '../../domain/job/job';
import { loadOwnJob } from './job-route';

export const schemas = { response: JobFileList };

export const options: RouteOptions = { auth: 'key' };

/**
 * GET /v1/jobs/{id}/outputs: every file the job left in `$SX_OUTPUT_DIR`, with signed download URLs
 * (1 h). Empty until the job is final (its outputs are saved before it is reported final), then kept,
 * whether it succeeded, failed or was cancelled.
 */
export const make = (deps: Deps) =>
  route(deps, options, async (request) => {
    const { state } = await loadOwnJob(deps, request);
    if (!isFinal(state)) return json(200, { object: 'list', data: [] });
    return json(200, await signedListing(deps, outputPrefix(state.job.jobId)));
  });

export const handler = lambda(make);

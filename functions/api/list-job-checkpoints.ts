import { JobFileList } from '../../events/api/jobs';
import { checkpointPrefix } from '../adapters/compute';
import type { Deps } from '../deps';
import { json, route, type RouteOptions } from '../http/route';
import { lambda } from '../lambda';
import { signedListing } from './job-data-route';
import { loadOwnJob } from './job-route';

export const schemas = { response: JobFileList };

export const options: RouteOptions = { auth: 'key' };

/** GET /v1/jobs/{id}/checkpoints: the job's `$SX_CHECKPOINT_DIR` as last saved, with signed download URLs (1 h). */
export const make = (deps: Deps) =>
  route(deps, options, async (request) => {
    const { state } = await loadOwnJob(deps, request);
    return json(200, await signedListing(deps, checkpointPrefix(state.job.jobId)));
  });

export const handler = lambda(make);

import { InvalidStateError } from '../../domain/errors';
import type { Deps } from '../deps';
import { route, type RouteOptions } from '../http/route';
import { lambda } from '../lambda';
import { runFileCommand } from '../files/commands';
import { isFinal, type KnownJobState } from '../../domain/job/job';
import { listActiveJobs } from '../views/active-jobs';
import { listJobViews } from '../views/job-views';
import { loadOwnFile } from './file-route';

export const schemas = { status: 204 };

export const options: RouteOptions = { auth: 'key' };

/** The account's newest jobs read beside the set of active jobs: more than any projection lag lets through. */
const NEWEST_JOBS = 100;

/**
 * DELETE /v1/files/{id}: deletes a file and its bytes (an unfinished upload is aborted). The
 * storage it took is free at once. 409 `invalid_state` while a queued or running job of the account
 * reads it: from the set of active jobs, and, since that projection may lag a job accepted a moment
 * ago, from the account's newest jobs, whose list entries are written with the jobs themselves.
 */
export const make = (deps: Deps) =>
  route(deps, options, async (request) => {
    const { file } = await loadOwnFile(deps, request);
    const [active, newest] = await Promise.all([listActiveJobs(deps), listJobViews(deps, request.accountId, { limit: NEWEST_JOBS })]);
    const readers = new Map<string, KnownJobState>();
    for (const state of [...active.map((a) => a.state), ...newest.jobs.filter((j) => !isFinal(j))]) {
      if (state.job.accountId === request.accountId && state.job.inputs?.some((i) => i.kind === 'file' && i.fileId === file.fileId)) readers.set(state.job.jobId, state);
    }
    if (readers.size > 0) {
      const names = [...readers.values()].map((state) => `${state.job.jobId} (${state.status})`).join(', ');
      throw new InvalidStateError(`File ${file.fileId} is an input of ${names}; delete it once ${readers.size > 1 ? 'they have' : 'it has'} ended`);
    }
    await runFileCommand(deps, request.accountId, (now) => ({ type: 'DeleteFile', data: { fileId: file.fileId }, metadata: { now } }), { actor: request.accountId });
    if (file.status === 'uploading') await deps.objects.abortUpload(file.key, file.uploadId);
    await deps.objects.delete([file.key]);
    return { statusCode: 204, headers: {} };
  });

export const handler = lambda(make);

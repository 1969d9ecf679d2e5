import { InvalidStateError } from '../../domain/errors';
import type { Deps } from '../deps';
import { route, type RouteOptions } from '../http/route';
import { lambda } from '../lambda';
import { runFileCommand } from '../files/commands';
import { listActiveJobs } from '../views/active-jobs';
import { loadOwnFile } from './file-route';

export const schemas = { status: 204 };

export const options: RouteOptions = { auth: 'key' };

/**
 * DELETE /v1/files/{id}: deletes a file and its bytes (an unfinished upload is aborted). The
 * storage it took is free at once. 409 `invalid_state` while a queued or running job of the account
 * reads it (from the set of active jobs, which may lag a job accepted a moment ago: such a job then
 * fails as `infrastructure`, unbilled, when its input cannot be fetched).
 */
export const make = (deps: Deps) =>
  route(deps, options, async (request) => {
    const { file } = await loadOwnFile(deps, request);
    const readers = (await listActiveJobs(deps)).filter(
      ({ state }) => state.job.accountId === request.accountId && state.job.inputs?.some((i) => i.kind === 'file' && i.fileId === file.fileId),
    );
    if (readers.length > 0) {
      const names = readers.map(({ state }) => `${state.job.jobId} (${state.status})`).join(', ');
      throw new InvalidStateError(`File ${file.fileId} is an input of ${names}; delete it once ${readers.length > 1 ? 'they have' : 'it has'} ended`);
    }
    await runFileCommand(deps, request.accountId, (now) => ({ type: 'DeleteFile', data: { fileId: file.fileId }, metadata: { now } }), { actor: request.accountId });
    if (file.status === 'uploading') await deps.objects.abortUpload(file.key, file.uploadId);
    await deps.objects.delete([file.key]);
    return { statusCode: 204, headers: {} };
  });

export const handler = lambda(make);

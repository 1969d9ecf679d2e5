import type { Deps } from '../deps';
import { route, type RouteOptions } from '../http/route';
import { lambda } from '../lambda';
import { runFileCommand } from '../files/commands';
import { loadOwnFile } from './file-route';

export const schemas = { status: 204 };

export const options: RouteOptions = { auth: 'key' };

/**
 * DELETE /v1/files/{id}: deletes a file and its bytes (an unfinished upload is aborted). The
 * storage it took is free at once.
 */
export const make = (deps: Deps) =>
  route(deps, options, async (request) => {
    const { file } = await loadOwnFile(deps, request);
    await runFileCommand(deps, request.accountId, (now) => ({ type: 'DeleteFile', data: { fileId: file.fileId }, metadata: { now } }), { actor: request.accountId });
    if (file.status === 'uploading') await deps.objects.abortUpload(file.key, file.uploadId);
    await deps.objects.delete([file.key]);
    return { statusCode: 204, headers: {} };
  });

export const handler = lambda(make);

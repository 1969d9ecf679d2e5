import { CompleteFileRequest, FileBody } from '../../events/api/files';
import type { Deps } from '../deps';
import { json, parse, route, type RouteOptions } from '../http/route';
import { lambda } from '../lambda';
import { runFileCommand } from '../files/commands';
import { checkUpload, loadOwnFile, presentFile } from './file-route';
import { InvalidStateError } from '../../domain/errors';

export const schemas = { body: CompleteFileRequest, response: FileBody };

export const options: RouteOptions = { auth: 'key' };

/**
 * POST /v1/files/{id}/complete: checks the parts against the declared file and completes the upload
 * (see `checkUpload`). Wrong or missing parts: 422 `invalid_upload`, the file stays `uploading`;
 * wrong bytes (SHA-256): 422 and the file becomes `failed`, its object deleted. A `ready` file is
 * answered unchanged.
 */
export const make = (deps: Deps) =>
  route(deps, options, async (request) => {
    // Whose file first: another account's is 404 whatever the body.
    const { file } = await loadOwnFile(deps, request);
    const { parts } = parse(CompleteFileRequest, request.body);
    if (file.status === 'ready') return json(200, presentFile(file));
    if (file.status !== 'uploading') throw new InvalidStateError(`File ${file.fileId} failed (${file.failureReason}); upload it again as a new file`);
    const check = await checkUpload(deps.objects, file, parts);
    if (check.outcome === 'wrong_bytes') await deps.objects.delete([file.key]);
    const state = await runFileCommand(deps, request.accountId, (now) => ({ type: 'CompleteFile', data: { fileId: file.fileId, check }, metadata: { now } }), {
      actor: request.accountId,
    });
    return json(200, presentFile(state.files[file.fileId]!));
  });

export const handler = lambda(make);

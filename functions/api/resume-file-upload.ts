import { expectedPartSize, partCount } from '../../domain/files/files';
import { InvalidStateError } from '../../domain/errors';
import { ResumedUpload } from '../../events/api/files';
import type { Deps } from '../deps';
import { json, route, type RouteOptions } from '../http/route';
import { lambda } from '../lambda';
import { loadOwnFile, signParts, storedParts } from './file-route';

export const schemas = { response: ResumedUpload };

export const options: RouteOptions = { auth: 'key' };

/**
 * POST /v1/files/{id}/upload: resumes an interrupted upload. Object storage is asked which parts it
 * holds (a part of the wrong size counts as not uploaded); the rest get fresh signed URLs.
 * 409 `invalid_state` once the file is not `uploading` or its upload expired.
 */
export const make = (deps: Deps) =>
  route(deps, options, async (request) => {
    const { file } = await loadOwnFile(deps, request);
    if (file.status !== 'uploading') throw new InvalidStateError(`File ${file.fileId} is ${file.status}; nothing to upload`);
    if (file.expiresAt <= deps.now().toISOString()) throw new InvalidStateError(`The upload of ${file.fileId} expired at ${file.expiresAt}; create the file again`);
    const stored = await storedParts(deps.objects, file);
    if (stored === 'gone') throw new InvalidStateError(`The upload of ${file.fileId} was completed or aborted; complete the file or create it again`);
    const uploaded = stored.filter((p) => p.partNumber <= partCount(file.size, file.partSize) && p.size === expectedPartSize(file, p.partNumber));
    const done = new Set(uploaded.map((p) => p.partNumber));
    const missing = Array.from({ length: partCount(file.size, file.partSize) }, (_, i) => i + 1).filter((n) => !done.has(n));
    const signed = await signParts(deps, file, missing);
    return json(200, { part_size: file.partSize, uploaded: uploaded.map((p) => ({ part_number: p.partNumber, etag: p.etag, size: p.size })), ...signed });
  });

export const handler = lambda(make);

import { InvalidStateError } from '../../domain/errors';
import type { Deps } from '../deps';
import { route, type RouteOptions } from '../http/route';
import { lambda } from '../lambda';
import { loadOwnFile, SIGNED_URL_SECONDS } from './file-route';

export const schemas = { status: 302 };

export const options: RouteOptions = { auth: 'key' };

/** GET /v1/files/{id}/content: 302 to a signed URL of the bytes (valid 1 h). 409 `invalid_state` unless `ready`. */
export const make = (deps: Deps) =>
  route(deps, options, async (request) => {
    const { file } = await loadOwnFile(deps, request);
    if (file.status !== 'ready') throw new InvalidStateError(`File ${file.fileId} is ${file.status}, not ready`);
    const url = (await deps.objects.signGets(file.key, [file.key], SIGNED_URL_SECONDS))[0]!;
    return { statusCode: 302, headers: { location: url, 'cache-control': 'no-store' } };
  });

export const handler = lambda(make);

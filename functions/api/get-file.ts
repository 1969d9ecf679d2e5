import { FileBody } from '../../events/api/files';
import type { Deps } from '../deps';
import { json, route, type RouteOptions } from '../http/route';
import { lambda } from '../lambda';
import { loadOwnFile, presentFile } from './file-route';

export const schemas = { response: FileBody };

export const options: RouteOptions = { auth: 'key' };

/** GET /v1/files/{id}: one of the caller's files (another account's is 404). */
export const make = (deps: Deps) =>
  route(deps, options, async (request) => json(200, presentFile((await loadOwnFile(deps, request)).file)));

export const handler = lambda(make);

import { decideFiles, partCount, partSizeFor, type FileCommand } from '../../domain/files/files';
import { load } from '../aggregates/aggregate';
import { fileRegistries } from '../aggregates/files';
import { CreateFileRequest, CreatedFile } from '../../events/api/files';
import type { Deps } from '../deps';
import { json, parse, route, type RouteOptions } from '../http/route';
import { lambda } from '../lambda';
import { runFileCommand } from '../files/commands';
import { fileKey, presentFile, signParts } from './file-route';

export const schemas = { body: CreateFileRequest, response: CreatedFile, status: 201 };

export const options: RouteOptions = { auth: 'key', idempotent: true };

/**
 * POST /v1/files: starts an upload. The answer signs one `PUT` URL per part; the bytes go straight
 * to object storage, never through the API. 413 over the largest file, 409 `quota_exceeded` when the
 * account's files would pass its storage quota (uploading files count for their declared size).
 */
export const make = (deps: Deps) =>
  route(deps, options, async ({ body, accountId }) => {
    const request = parse(CreateFileRequest, body);
    const fileId = deps.ids.file();
    const key = fileKey(accountId, fileId);
    const { policy } = deps;
    const create = (uploadId: string, now: string): FileCommand => ({
      type: 'CreateFile',
      data: {
        fileId, accountId, filename: request.filename, size: request.size, purpose: request.purpose, sha256: request.sha256 ?? null, key, uploadId,
        partSize: partSizeFor(request.size), quotaBytes: policy.storageQuotaBytes, maxFileBytes: policy.maxFileBytes, expiresInSeconds: policy.uploadExpirySeconds,
      },
      metadata: { now },
    });
    // Refused (413, quota) before a multipart upload is started: a rejected request leaves nothing behind.
    const { state: before } = await load(deps.store, fileRegistries, accountId);
    decideFiles(create('', deps.now().toISOString()), before);
    const uploadId = await deps.objects.createUpload(key);
    let state;
    try {
      state = await runFileCommand(deps, accountId, (now) => create(uploadId, now), { actor: accountId });
    } catch (error) {
      // A concurrent upload took the room meanwhile.
      await deps.objects.abortUpload(key, uploadId);
      throw error;
    }
    const file = state.files[fileId]!;
    const numbers = Array.from({ length: partCount(file.size, file.partSize) }, (_, i) => i + 1);
    const signed = await signParts(deps, file, numbers);
    return json(201, { ...presentFile(file), upload: { part_size: file.partSize, ...signed } }, { location: `/v1/files/${fileId}` });
  });

export const handler = lambda(make);

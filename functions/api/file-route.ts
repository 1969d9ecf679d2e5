import { expectedPartSize, liveFile, partCount, type FileRegistryState, type FileState, type UploadCheck } from '../../domain/files/files';
import type { FileBody } from '../../events/api/files';
import { FileId } from '../../events/file-events';
import { NoSuchUploadError, type ObjectStore, type StoredPart } from '../adapters/object-store';
import { load } from '../aggregates/aggregate';
import { fileRegistries } from '../aggregates/files';
import type { Deps } from '../deps';
import { notFound } from '../http/problem';
import type { ApiRequest } from '../http/route';

/** Signed URLs (upload parts, downloads) are valid this long: API.md's limit is 1 h. */
export const SIGNED_URL_SECONDS = 3600;

/** Where a file's bytes are kept in the bucket. */
export const fileKey = (accountId: string, fileId: string) => `files/${accountId}/${fileId}`;

/**
 * Loads the caller's files and the one named by the `{id}` path parameter.
 * @throws HttpProblem 404 for a malformed id, an unknown or deleted file, or another account's (same answer).
 */
export async function loadOwnFile(deps: Deps, request: ApiRequest): Promise<{ file: FileState; registry: FileRegistryState }> {
  const id = request.event.pathParameters?.id ?? '';
  if (!FileId.safeParse(id).success) throw notFound(`No file ${id}`);
  const { state } = await load(deps.store, fileRegistries, request.accountId);
  const file = state.files[id];
  if (!file || file.status === 'deleted') throw notFound(`No file ${id}`);
  return { file: liveFile(state, id), registry: state };
}

export function presentFile(file: FileState): FileBody {
  return {
    id: file.fileId,
    object: 'file',
    filename: file.filename,
    size: file.size,
    purpose: file.purpose,
    sha256: file.sha256,
    status: file.status === 'deleted' ? 'failed' : file.status,
    created_at: file.createdAt,
    expires_at: file.status === 'uploading' ? file.expiresAt : null,
    failure_reason: file.failureReason,
  };
}

/** Signed `PUT` URLs for these parts of the file's upload, and when they stop working. */
export async function signParts(deps: Deps, file: FileState, numbers: number[]) {
  const now = deps.now().getTime();
  // Never past the upload's own expiry: a URL must not outlive the upload it writes to.
  const seconds = Math.max(1, Math.min(SIGNED_URL_SECONDS, Math.floor((Date.parse(file.expiresAt) - now) / 1000)));
  const urls = await deps.objects.signParts(file.key, file.uploadId, numbers, seconds);
  const parts = numbers.map((n, i) => ({ part_number: n, url: urls[i]!, method: 'PUT' as const, size: expectedPartSize(file, n) }));
  return { parts, expires_at: new Date(now + seconds * 1000).toISOString() };
}

/** The parts object storage holds of the file's upload; an upload already gone holds none. */
export async function storedParts(objects: ObjectStore, file: FileState): Promise<StoredPart[] | 'gone'> {
  try {
    return await objects.listParts(file.key, file.uploadId);
  } catch (error) {
    if (error instanceof NoSuchUploadError) return 'gone';
    throw error;
  }
}

const bare = (etag: string) => etag.replace(/"/g, '');

/**
 * Checks an upload against what was declared and completes it in object storage: every part named
 * with the ETag storage gave it and the size the part must have; then, when a SHA-256 was declared,
 * one streaming pass over the object (constant memory whatever its size). An upload that storage
 * already completed (a completion that crashed before it was recorded) is checked by its size.
 */
export async function checkUpload(objects: ObjectStore, file: FileState, named: Array<{ part_number: number; etag: string }>): Promise<UploadCheck> {
  const count = partCount(file.size, file.partSize);
  const stored = await storedParts(objects, file);
  if (stored === 'gone') {
    const size = await objects.size(file.key);
    if (size === null) return { outcome: 'wrong_parts', detail: 'The upload has no parts any more; create the file again' };
    if (size !== file.size) return { outcome: 'wrong_bytes', reason: 'size_mismatch', detail: `The object has ${size} bytes, not the declared ${file.size}` };
  } else {
    const byNumber = new Map(stored.map((p) => [p.partNumber, p]));
    const problems: string[] = [];
    const sorted = [...named].sort((a, b) => a.part_number - b.part_number);
    if (sorted.length !== count || sorted.some((p, i) => p.part_number !== i + 1)) problems.push(`name every part from 1 to ${count} once`);
    for (const p of sorted) {
      const part = byNumber.get(p.part_number);
      if (!part) problems.push(`part ${p.part_number} was not uploaded`);
      else if (bare(part.etag) !== bare(p.etag)) problems.push(`part ${p.part_number}'s ETag is ${part.etag}, not ${p.etag}`);
      else if (p.part_number <= count && part.size !== expectedPartSize(file, p.part_number)) {
        problems.push(`part ${p.part_number} has ${part.size} bytes, not ${expectedPartSize(file, p.part_number)}`);
      }
    }
    if (problems.length > 0) return { outcome: 'wrong_parts', detail: `The parts do not match the declared file: ${problems.slice(0, 5).join('; ')}` };
    await objects.completeUpload(file.key, file.uploadId, sorted.map((p) => ({ partNumber: p.part_number, etag: byNumber.get(p.part_number)!.etag })));
  }
  if (file.sha256 !== null) {
    const actual = await objects.sha256(file.key);
    if (actual !== file.sha256) return { outcome: 'wrong_bytes', reason: 'sha256_mismatch', detail: `The bytes' SHA-256 is ${actual}, not the declared ${file.sha256}` };
  }
  return { outcome: 'complete', parts: count };
}

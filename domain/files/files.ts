import type { FileEvent, FilePurpose } from '../../events/file-events';
import { DomainError, InvalidStateError, NotFoundError, QuotaExceededError } from '../errors';
import type { StreamDecider } from '../decider';

/** The file is larger than any file may be. 413. */
export class FileTooLargeError extends DomainError {
  override readonly name = 'FileTooLargeError';
}

/** The uploaded bytes do not match what was declared. 422 `invalid_upload`. */
export class InvalidUploadError extends DomainError {
  override readonly name = 'InvalidUploadError';
}

export interface FileState {
  fileId: string;
  accountId: string;
  filename: string;
  size: number;
  purpose: FilePurpose;
  sha256: string | null;
  key: string;
  uploadId: string;
  partSize: number;
  createdAt: string;
  expiresAt: string;
  status: 'uploading' | 'ready' | 'failed' | 'deleted';
  failureReason: 'expired' | 'size_mismatch' | 'sha256_mismatch' | null;
  completedAt: string | null;
}

/** An account's files, deleted ones included (they are history). */
export interface FileRegistryState {
  files: Record<string, FileState>;
}

export const initialFileRegistry = (): FileRegistryState => ({ files: {} });

export function evolveFileRegistry(state: FileRegistryState, event: FileEvent): FileRegistryState {
  const update = (id: string, change: (f: FileState) => FileState) => {
    const file = state.files[id];
    return file ? { files: { ...state.files, [id]: change(file) } } : state;
  };
  switch (event.type) {
    case 'FileCreated':
      return { files: { ...state.files, [event.data.fileId]: { ...event.data, status: 'uploading', failureReason: null, completedAt: null } } };
    case 'FileCompleted':
      return update(event.data.fileId, (f) => ({ ...f, status: 'ready', completedAt: event.data.completedAt }));
    case 'FileFailed':
      return update(event.data.fileId, (f) => ({ ...f, status: 'failed', failureReason: event.data.reason }));
    case 'FileDeleted':
      return update(event.data.fileId, (f) => ({ ...f, status: 'deleted' }));
    default: {
      const unknown: never = event;
      return unknown;
    }
  }
}

/** Bytes the account's files take: ready ones, and uploading ones for the size they declared. */
export const storageUsed = (state: FileRegistryState): number =>
  Object.values(state.files).reduce((sum, f) => (f.status === 'ready' || f.status === 'uploading' ? sum + f.size : sum), 0);

const MiB = 1024 * 1024;
/** S3's floor for every part but the last. */
export const MIN_PART_SIZE = 8 * MiB;
/** At most this many parts, so a create or resume answer (one URL a part) stays small. */
export const MAX_PARTS = 1000;

/** The part size for a file: 8 MiB, or larger (whole MiB) so that it takes at most {@link MAX_PARTS} parts. */
export const partSizeFor = (size: number): number => Math.max(MIN_PART_SIZE, Math.ceil(size / MAX_PARTS / MiB) * MiB);

/** How many parts a file of `size` bytes takes at `partSize`. */
export const partCount = (size: number, partSize: number): number => Math.ceil(size / partSize);

/** The size part `n` (from 1) must have. */
export const expectedPartSize = (file: Pick<FileState, 'size' | 'partSize'>, n: number): number =>
  Math.min(file.partSize, file.size - (n - 1) * file.partSize);

/** What the storage side holds of an upload, as checked when it is completed. */
export type UploadCheck =
  /** Every part is there with the declared sizes (and the SHA-256 matched, when declared). */
  | { outcome: 'complete'; parts: number }
  /** The client named a part that is not there, or not with that ETag: it may send it again. */
  | { outcome: 'wrong_parts'; detail: string }
  /** The bytes are there but not the declared ones. */
  | { outcome: 'wrong_bytes'; reason: 'size_mismatch' | 'sha256_mismatch'; detail: string };

type Meta = { metadata: { now: string } };
export type FileCommand =
  | ({
      type: 'CreateFile';
      data: Omit<FileState, 'status' | 'failureReason' | 'completedAt' | 'createdAt' | 'expiresAt'> & { quotaBytes: number; maxFileBytes: number; expiresInSeconds: number };
    } & Meta)
  | ({ type: 'CompleteFile'; data: { fileId: string; check: UploadCheck } } & Meta)
  | ({ type: 'ExpireUpload'; data: { fileId: string } } & Meta)
  | ({ type: 'DeleteFile'; data: { fileId: string } } & Meta);

/** The file, unless it does not exist or is deleted. @throws NotFoundError */
export function liveFile(state: FileRegistryState, fileId: string): FileState {
  const file = state.files[fileId];
  if (!file || file.status === 'deleted') throw new NotFoundError(`No file ${fileId}`);
  return file;
}

/**
 * Decides a change to an account's files. Ids, keys and upload ids come in on the command; time on
 * `metadata.now`; what object storage holds, on `CompleteFile`'s `check`.
 * @throws FileTooLargeError, QuotaExceededError on create; NotFoundError for an unknown file;
 *   InvalidUploadError when completing with wrong parts, or with wrong bytes (after which the file has failed:
 *   the caller appends the `FileFailed` this returns first, see {@link completionFailure});
 *   InvalidStateError completing a failed file.
 */
export function decideFiles(command: FileCommand, state: FileRegistryState): FileEvent[] {
  const now = command.metadata.now;
  switch (command.type) {
    case 'CreateFile': {
      const { quotaBytes, maxFileBytes, expiresInSeconds, ...file } = command.data;
      if (state.files[file.fileId]) return [];
      if (file.size > maxFileBytes) throw new FileTooLargeError(`A file can have at most ${maxFileBytes} bytes; this one declares ${file.size}`);
      const used = storageUsed(state);
      if (used + file.size > quotaBytes) {
        throw new QuotaExceededError(`This file needs ${file.size} bytes; the account uses ${used} of its ${quotaBytes}. Delete files to make room`, {
          name: 'storage_bytes',
          limit: quotaBytes,
        });
      }
      const expiresAt = new Date(Date.parse(now) + expiresInSeconds * 1000).toISOString();
      return [{ type: 'FileCreated', data: { ...file, createdAt: now, expiresAt } }];
    }
    case 'CompleteFile': {
      const file = liveFile(state, command.data.fileId);
      if (file.status === 'ready') return [];
      if (file.status === 'failed') throw new InvalidStateError(`File ${file.fileId} failed (${file.failureReason}); upload it again as a new file`);
      const { check } = command.data;
      if (check.outcome === 'wrong_parts') throw new InvalidUploadError(check.detail);
      if (check.outcome === 'wrong_bytes') return [{ type: 'FileFailed', data: { fileId: file.fileId, reason: check.reason, failedAt: now } }];
      return [{ type: 'FileCompleted', data: { fileId: file.fileId, parts: check.parts, completedAt: now } }];
    }
    case 'ExpireUpload': {
      const file = state.files[command.data.fileId];
      if (file?.status !== 'uploading' || file.expiresAt > now) return [];
      return [{ type: 'FileFailed', data: { fileId: file.fileId, reason: 'expired', failedAt: now } }];
    }
    case 'DeleteFile': {
      const file = liveFile(state, command.data.fileId);
      const freedBytes = file.status === 'failed' ? 0 : file.size;
      return [{ type: 'FileDeleted', data: { fileId: file.fileId, deletedAt: now, freedBytes } }];
    }
    default: {
      const unknown: never = command;
      return unknown;
    }
  }
}

/** The `invalid_upload` error a completion ends with after it recorded `FileFailed` (null when it did not fail). */
export function completionFailure(command: FileCommand): InvalidUploadError | null {
  return command.type === 'CompleteFile' && command.data.check.outcome === 'wrong_bytes' ? new InvalidUploadError(command.data.check.detail) : null;
}

/** An account's files: one stream per account (`files#<account id>`). */
export const fileRegistryDecider: StreamDecider<FileRegistryState, FileCommand, FileEvent> = {
  streamId: (accountId) => `files#${accountId}`,
  initialState: initialFileRegistry,
  decide: decideFiles,
  evolve: evolveFileRegistry,
};

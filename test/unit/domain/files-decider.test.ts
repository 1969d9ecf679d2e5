import { describe, it } from 'vitest';
import { InvalidStateError, NotFoundError } from '../../../domain/errors';
import { decideFiles, evolveFileRegistry, FileTooLargeError, initialFileRegistry, InvalidUploadError, QuotaExceededError, type FileCommand } from '../../../domain/files/files';
import type { FileEvent } from '../../../events/file-events';
import { deciderSpec } from '../../support/decider-spec';
import { accountId, at } from './fixtures';

const spec = deciderSpec({ decide: decideFiles, evolve: evolveFileRegistry, initialState: initialFileRegistry });
const fileId = (n: number) => `file_01${String(n).padStart(24, '0')}`;
const MiB = 2 ** 20;
const DAY = 24 * 3600;

const file = (n: number, size: number) => ({
  fileId: fileId(n), accountId, filename: `f${n}.bin`, size, purpose: 'dataset' as const, sha256: null, key: `files/${accountId}/${fileId(n)}`, uploadId: `up-${n}`, partSize: 8 * MiB,
});
const create = (n: number, size: number, now = at(0)): FileCommand => ({
  type: 'CreateFile', data: { ...file(n, size), quotaBytes: 100 * MiB, maxFileBytes: 50 * MiB, expiresInSeconds: DAY }, metadata: { now },
});
const created = (n: number, size: number): FileEvent => ({ type: 'FileCreated', data: { ...file(n, size), createdAt: at(0), expiresAt: new Date(Date.parse(at(0)) + DAY * 1000).toISOString() } });
const completed = (n: number): FileEvent => ({ type: 'FileCompleted', data: { fileId: fileId(n), parts: 1, completedAt: at(5) } });
const failed = (n: number, reason: 'expired' | 'sha256_mismatch'): FileEvent => ({ type: 'FileFailed', data: { fileId: fileId(n), reason, failedAt: at(5) } });
const complete = (n: number, check: Extract<FileCommand, { type: 'CompleteFile' }>['data']['check']): FileCommand => ({ type: 'CompleteFile', data: { fileId: fileId(n), check }, metadata: { now: at(9) } });
const expire = (n: number, now: string): FileCommand => ({ type: 'ExpireUpload', data: { fileId: fileId(n) }, metadata: { now } });
const remove = (n: number): FileCommand => ({ type: 'DeleteFile', data: { fileId: fileId(n) }, metadata: { now: at(9) } });
const dayLater = new Date(Date.parse(at(0)) + DAY * 1000 + 1000).toISOString();

describe('files', () => {
  describe('CreateFile', () => {
    it('records the file with its expiry', () => spec([]).when(create(1, 10 * MiB)).then([created(1, 10 * MiB)]));
    it('changes nothing when the file exists (a retried create)', () => spec([created(1, 10 * MiB)]).when(create(1, 10 * MiB)).thenNothing());
    it('refuses a file over the largest size', () => spec([]).when(create(1, 50 * MiB + 1)).thenThrows(FileTooLargeError));
    it('refuses a file past the quota, counting uploading and ready files', () =>
      spec([created(1, 50 * MiB), completed(1), created(2, 40 * MiB)]).when(create(3, 10 * MiB + 1)).thenThrows(QuotaExceededError));
    it('does not count failed or deleted files against the quota', () =>
      spec([created(1, 50 * MiB), failed(1, 'sha256_mismatch'), created(2, 50 * MiB), { type: 'FileDeleted', data: { fileId: fileId(2), deletedAt: at(6), freedBytes: 50 * MiB } }])
        .when(create(3, 50 * MiB))
        .then([created(3, 50 * MiB)]));
  });

  describe('CompleteFile', () => {
    it('makes an uploading file ready', () =>
      spec([created(1, MiB)]).when(complete(1, { outcome: 'complete', parts: 1 })).then([{ type: 'FileCompleted', data: { fileId: fileId(1), parts: 1, completedAt: at(9) } }]));
    it('changes nothing for a ready file', () => spec([created(1, MiB), completed(1)]).when(complete(1, { outcome: 'complete', parts: 1 })).thenNothing());
    it('refuses wrong parts with invalid_upload and records nothing (the file stays uploading)', () =>
      spec([created(1, MiB)]).when(complete(1, { outcome: 'wrong_parts', detail: 'part 2 is missing' })).thenThrows(InvalidUploadError));
    it('fails the file when the bytes are wrong', () =>
      spec([created(1, MiB)])
        .when(complete(1, { outcome: 'wrong_bytes', reason: 'sha256_mismatch', detail: 'x' }))
        .then([{ type: 'FileFailed', data: { fileId: fileId(1), reason: 'sha256_mismatch', failedAt: at(9) } }]));
    it('refuses a failed file', () => spec([created(1, MiB), failed(1, 'expired')]).when(complete(1, { outcome: 'complete', parts: 1 })).thenThrows(InvalidStateError));
    it('refuses an unknown file', () => spec([]).when(complete(1, { outcome: 'complete', parts: 1 })).thenThrows(NotFoundError));
  });

  describe('ExpireUpload', () => {
    it('fails an upload past its expiry', () =>
      spec([created(1, MiB)]).when(expire(1, dayLater)).then([{ type: 'FileFailed', data: { fileId: fileId(1), reason: 'expired', failedAt: dayLater } }]));
    it('changes nothing before the expiry', () => spec([created(1, MiB)]).when(expire(1, at(30))).thenNothing());
    it('changes nothing for a ready, failed or unknown file', () => {
      spec([created(1, MiB), completed(1)]).when(expire(1, dayLater)).thenNothing();
      spec([created(1, MiB), failed(1, 'sha256_mismatch')]).when(expire(1, dayLater)).thenNothing();
      spec([]).when(expire(1, dayLater)).thenNothing();
    });
  });

  describe('DeleteFile', () => {
    it('frees what a ready file took', () =>
      spec([created(1, MiB), completed(1)]).when(remove(1)).then([{ type: 'FileDeleted', data: { fileId: fileId(1), deletedAt: at(9), freedBytes: MiB } }]));
    it('frees nothing for a failed file', () =>
      spec([created(1, MiB), failed(1, 'expired')]).when(remove(1)).then([{ type: 'FileDeleted', data: { fileId: fileId(1), deletedAt: at(9), freedBytes: 0 } }]));
    it('refuses a deleted or unknown file', () => {
      spec([created(1, MiB), { type: 'FileDeleted', data: { fileId: fileId(1), deletedAt: at(6), freedBytes: MiB } }]).when(remove(1)).thenThrows(NotFoundError);
      spec([]).when(remove(1)).thenThrows(NotFoundError);
    });
  });
});

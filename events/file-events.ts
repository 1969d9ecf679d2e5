import * as z from 'zod';
import { defineSchema } from './define-schema';
import { AccountId, IsoTime, NonNegativeInt, PositiveInt } from './values';

/**
 * Events of an account's files (`files#<account id>`): every file of the account lives in this one
 * stream, so the storage quota is decided in the same conditional append that creates a file (two
 * concurrent uploads cannot both take the last free bytes), and a list is one strongly consistent read.
 */
export const FileId = /* @__PURE__ */ defineSchema(() => z.string().regex(/^file_[0-9a-z]{26}$/));

export const FilePurpose = /* @__PURE__ */ defineSchema(() => z.enum(['dataset', 'model', 'other']));
export type FilePurpose = z.infer<typeof FilePurpose>;

/** An upload began: its bytes go to `key` in the bucket through the multipart upload `uploadId`. */
export const FileCreated = /* @__PURE__ */ defineSchema(() => z.object({
  type: z.literal('FileCreated'),
  data: z.object({
    fileId: FileId,
    accountId: AccountId,
    filename: z.string(),
    size: PositiveInt,
    purpose: FilePurpose,
    sha256: z.string().nullable(),
    key: z.string(),
    uploadId: z.string(),
    partSize: PositiveInt,
    createdAt: IsoTime,
    /** Not completed by then: the upload fails and its parts are deleted. */
    expiresAt: IsoTime,
  }),
}));

/** The bytes are all there, of the declared size (and SHA-256, when one was declared). */
export const FileCompleted = /* @__PURE__ */ defineSchema(() => z.object({
  type: z.literal('FileCompleted'),
  data: z.object({ fileId: FileId, parts: PositiveInt, completedAt: IsoTime }),
}));

/** The upload will never complete: it expired, or its bytes were not the declared ones. */
export const FileFailed = /* @__PURE__ */ defineSchema(() => z.object({
  type: z.literal('FileFailed'),
  data: z.object({ fileId: FileId, reason: z.enum(['expired', 'size_mismatch', 'sha256_mismatch']), failedAt: IsoTime }),
}));

export const FileDeleted = /* @__PURE__ */ defineSchema(() => z.object({
  type: z.literal('FileDeleted'),
  data: z.object({ fileId: FileId, deletedAt: IsoTime, freedBytes: NonNegativeInt }),
}));

export const FileEvent = /* @__PURE__ */ defineSchema(() => z.discriminatedUnion('type', [FileCreated, FileCompleted, FileFailed, FileDeleted]));
export type FileEvent = z.infer<typeof FileEvent>;

import * as z from 'zod';
import { defineSchema } from '../define-schema';
import { Int, NullableString } from '../values';
import { ListQuery, NullableTimestamp, Timestamp, listOf } from './common';

/** What a file is for (API.md, Files). */
export const FilePurposeBody = /* @__PURE__ */ defineSchema(() => z.enum(['dataset', 'model', 'other']).meta({ id: 'FilePurpose' }));

/** `POST /v1/files` body. The bytes are not in it: they go to the signed part URLs of the answer. */
export const CreateFileRequest = /* @__PURE__ */ defineSchema(() => z.strictObject({
  // A name, not a path: it becomes `$SX_INPUT_DIR/<input>/<filename>` in a job.
  filename: z.string().min(1).max(255).regex(/^[^/\\\u0000-\u001f]+$/, 'a file name without slashes or control characters').refine((n) => n !== '.' && n !== '..', 'not . or ..'),
  size: Int.min(1).max(Number.MAX_SAFE_INTEGER),
  purpose: FilePurposeBody.default('dataset'),
  sha256: z.string().regex(/^[0-9a-fA-F]{64}$/, '64 hexadecimal digits').transform((s) => s.toLowerCase()).optional(),
}));
export type CreateFileRequest = z.input<typeof CreateFileRequest>;

/** One part's signed upload URL: `PUT` the part's bytes there (with `headers`); the answer's `ETag` names the part. */
export const UploadPartBody = /* @__PURE__ */ defineSchema(() => z.object({
  part_number: Int,
  url: z.string(),
  method: z.literal('PUT'),
  headers: z.record(z.string(), z.string()).optional(),
  /** Bytes this part must have (extra field: the last part may be shorter). */
  size: Int,
}).meta({ id: 'UploadPart' }));

/** The file object. */
export const FileBody = /* @__PURE__ */ defineSchema(() => z.object({
  id: z.string(),
  object: z.literal('file'),
  filename: z.string(),
  size: Int,
  purpose: FilePurposeBody,
  sha256: NullableString,
  status: z.enum(['uploading', 'ready', 'failed']),
  created_at: Timestamp,
  /** While `uploading`: when the upload fails if not completed. */
  expires_at: NullableTimestamp,
  /** On `failed`: `expired`, `size_mismatch` or `sha256_mismatch`. */
  failure_reason: NullableString,
}).meta({ id: 'File', description: 'A file: data a job reads (a dataset, a base model, anything).' }));
export type FileBody = z.infer<typeof FileBody>;

/** The answer to `POST /v1/files`: the file and where to send its parts. */
export const CreatedFile = /* @__PURE__ */ defineSchema(() => FileBody.extend({
  upload: z.object({ part_size: Int, parts: z.array(UploadPartBody), expires_at: Timestamp }),
}).meta({ id: 'CreatedFile' }));
export type CreatedFile = z.infer<typeof CreatedFile>;

/** `POST /v1/files/{id}/complete` body: every part, with the `ETag` its upload answered. */
export const CompleteFileRequest = /* @__PURE__ */ defineSchema(() => z.strictObject({
  parts: z.array(z.strictObject({ part_number: Int.min(1).max(10_000), etag: z.string().min(1).max(128) })).min(1).max(10_000),
}));
export type CompleteFileRequest = z.input<typeof CompleteFileRequest>;

/** The answer to `POST /v1/files/{id}/upload`: the parts already uploaded and fresh URLs for the rest. */
export const ResumedUpload = /* @__PURE__ */ defineSchema(() => z.object({
  part_size: Int,
  uploaded: z.array(z.object({ part_number: Int, etag: z.string(), size: Int })),
  parts: z.array(UploadPartBody),
  expires_at: Timestamp,
}).meta({ id: 'ResumedUpload' }));
export type ResumedUpload = z.infer<typeof ResumedUpload>;

export const ListFilesQuery = /* @__PURE__ */ defineSchema(() => ListQuery.extend({ purpose: FilePurposeBody.optional() }));
export const FileList = /* @__PURE__ */ defineSchema(() => listOf(FileBody, 'FileList'));
export type FileList = z.infer<typeof FileList>;

/** `storage` on `GET /v1/account`. */
export const StorageBody = /* @__PURE__ */ defineSchema(() => z.object({ used_bytes: Int, quota_bytes: Int }));

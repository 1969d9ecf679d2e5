/** A part S3 holds for a multipart upload. */
export interface StoredPart {
  partNumber: number;
  etag: string;
  size: number;
}

/** An object under a prefix, its key relative to the prefix. */
export interface ListedObject {
  path: string;
  size: number;
}

/** A multipart upload S3 holds open (neither completed nor aborted). */
export interface OpenUpload {
  key: string;
  uploadId: string;
  /** When it was started (ISO 8601). */
  initiated: string;
}

/** S3 refused a completion: a part is missing, too small, or named by a wrong ETag. */
export class InvalidPartError extends Error {
  override readonly name = 'InvalidPartError';
}

/**
 * The object storage the data path uses: S3 in AWS, the local stack's S3-compatible server locally,
 * through the same code ({@link S3ObjectStore}). Clients never get a credential: only URLs signed for
 * one object or one part, valid for `expiresInSeconds`.
 */
export interface ObjectStore {
  /** Starts a multipart upload of `key`. @returns its upload id. */
  createUpload(key: string): Promise<string>;
  /**
   * Presigned `UploadPart` URLs for these parts of one upload, in the order given. In AWS they are
   * signed with credentials allowed to write that one key and nothing else ({@link ScopedCredentials}).
   */
  signParts(key: string, uploadId: string, partNumbers: number[], expiresInSeconds: number): Promise<string[]>;
  /** The parts S3 holds for the upload, in part order. @throws NoSuchUploadError when it was completed or aborted. */
  listParts(key: string, uploadId: string): Promise<StoredPart[]>;
  /** Completes the upload from these parts. @throws InvalidPartError when S3 refuses the parts. */
  completeUpload(key: string, uploadId: string, parts: Array<{ partNumber: number; etag: string }>): Promise<void>;
  /** Every multipart upload still open under `prefix`, oldest first. */
  listUploads(prefix: string): Promise<OpenUpload[]>;
  /** Aborts the upload and deletes its parts; an upload already gone is fine. */
  abortUpload(key: string, uploadId: string): Promise<void>;
  /** The object's size, or null when there is none. */
  size(key: string): Promise<number | null>;
  /** SHA-256 of the object (hex), in one streaming pass: memory stays constant whatever its size. */
  sha256(key: string): Promise<string>;
  /**
   * Presigned `GetObject` URLs for `keys`, in the order given, every one within `scope`: one key, or a
   * prefix ending in `/` (a job's outputs). In AWS they are signed with credentials allowed to read
   * `scope` and nothing else. @throws when a key is outside `scope` (a defect of the caller).
   */
  signGets(scope: string, keys: string[], expiresInSeconds: number): Promise<string[]>;
  /** Every object under `prefix` (which ends with `/`), paths relative to it, sorted. */
  list(prefix: string): Promise<ListedObject[]>;
  /** The object's bytes as a stream. @throws when there is no such object. */
  read(key: string): Promise<AsyncIterable<Uint8Array>>;
  /** Stores a local file as `key` (streamed from disk). */
  putFile(key: string, path: string): Promise<void>;
  /** Deletes these objects; missing ones are fine. */
  delete(keys: string[]): Promise<void>;
}

/** The upload is gone (completed or aborted). */
export class NoSuchUploadError extends Error {
  override readonly name = 'NoSuchUploadError';
}

/** What a signing session may do: one action on one key, or on every key under a prefix ending in `/`. */
export interface SigningScope {
  action: 's3:PutObject' | 's3:GetObject';
  scope: string;
}

/**
 * Credentials to sign URLs with, allowed `action` on `scope` and nothing else, valid at least
 * `seconds`. A presigned URL carries the rights of its signer, and the signer's access key id and
 * session token travel in the URL: signed this way, no URL (nor what it carries) can reach any other
 * key, another account's above all, whatever the signing function itself may do.
 */
export type ScopedCredentials = (grant: SigningScope, seconds: number) => Promise<{ accessKeyId: string; secretAccessKey: string; sessionToken?: string; expiration?: Date }>;

/** Whether `key` is within a signing scope (the key itself, or under the prefix). */
export const inScope = (scope: string, key: string) => (scope.endsWith('/') ? key.startsWith(scope) && key.length > scope.length : key === scope);

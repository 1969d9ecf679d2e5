import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  NoSuchUpload,
  NotFound,
  S3Client,
  S3ServiceException,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';

import { inScope, InvalidPartError, NoSuchUploadError, type ListedObject, type ObjectStore, type OpenUpload, type ScopedCredentials, type SigningScope, type StoredPart } from './object-store';

/**
 * Options every S3 client of the data path is built with. Checksums only where S3 requires them: by
 * default the SDK puts the CRC32 of an empty body (`x-amz-checksum-crc32=AAAAAA==`) into presigned
 * `UploadPart` URLs, and S3 would refuse every real part sent to them.
 */
export const S3_CLIENT_OPTIONS = { requestChecksumCalculation: 'WHEN_REQUIRED' } as const;

/** The SHA-256 pass's ranged reads: their size and how many are in flight at once. */
const RANGE_BYTES = 8 * 1024 * 1024;
const RANGES_IN_FLIGHT = 6;

export interface S3ObjectStoreConfig {
  client: S3Client;
  bucket: string;
  /**
   * Where URLs get their signing credentials, scoped to what each URL is for (AWS: a session of the
   * URL-signing role narrowed by a session policy). Unset (the local stack): the client's own.
   */
  scopedCredentials?: ScopedCredentials;
}

/** {@link ObjectStore} on the AWS SDK's S3 client and presigner, for S3 and S3-compatible servers alike. */
export class S3ObjectStore implements ObjectStore {
  private readonly s3: S3Client;
  private readonly bucket: string;

  private readonly scopedCredentials?: ScopedCredentials;

  constructor(config: S3ObjectStoreConfig) {
    this.s3 = config.client;
    this.bucket = config.bucket;
    this.scopedCredentials = config.scopedCredentials;
  }

  /** A client that signs with credentials allowed this grant only (or the store's own client, locally). */
  private async signer(grant: SigningScope, seconds: number): Promise<S3Client> {
    if (!this.scopedCredentials) return this.s3;
    const credentials = await this.scopedCredentials(grant, seconds);
    const { config } = this.s3;
    return new S3Client({ ...S3_CLIENT_OPTIONS, region: await config.region(), credentials, forcePathStyle: config.forcePathStyle, ...(config.endpoint ? { endpoint: await config.endpoint() } : {}) });
  }

  async createUpload(key: string): Promise<string> {
    const { UploadId } = await this.s3.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: key }));
    if (!UploadId) throw new Error(`S3 started no upload for ${key}`);
    return UploadId;
  }

  async signParts(key: string, uploadId: string, partNumbers: number[], expiresInSeconds: number): Promise<string[]> {
    if (partNumbers.length === 0) return [];
    const signer = await this.signer({ action: 's3:PutObject', scope: key }, expiresInSeconds);
    return Promise.all(
      partNumbers.map((n) => getSignedUrl(signer, new UploadPartCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId, PartNumber: n }), { expiresIn: expiresInSeconds })),
    );
  }

  async listParts(key: string, uploadId: string): Promise<StoredPart[]> {
    const parts: StoredPart[] = [];
    let marker: string | undefined;
    try {
      do {
        const page = await this.s3.send(new ListPartsCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId, PartNumberMarker: marker }));
        for (const p of page.Parts ?? []) parts.push({ partNumber: p.PartNumber!, etag: p.ETag!, size: p.Size ?? 0 });
        marker = page.IsTruncated ? page.NextPartNumberMarker : undefined;
      } while (marker);
    } catch (error) {
      if (error instanceof NoSuchUpload || (error as S3ServiceException).name === 'NoSuchUpload') throw new NoSuchUploadError(`No upload ${uploadId}`);
      throw error;
    }
    return parts.sort((a, b) => a.partNumber - b.partNumber);
  }

  async completeUpload(key: string, uploadId: string, parts: Array<{ partNumber: number; etag: string }>): Promise<void> {
    try {
      await this.s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.bucket,
          Key: key,
          UploadId: uploadId,
          MultipartUpload: { Parts: parts.map((p) => ({ PartNumber: p.partNumber, ETag: p.etag })) },
        }),
      );
    } catch (error) {
      const name = (error as S3ServiceException).name;
      if (name === 'InvalidPart' || name === 'InvalidPartOrder' || name === 'EntityTooSmall') throw new InvalidPartError((error as Error).message);
      if (name === 'NoSuchUpload') throw new NoSuchUploadError(`No upload ${uploadId}`);
      throw error;
    }
  }

  async listUploads(prefix: string): Promise<OpenUpload[]> {
    const uploads: OpenUpload[] = [];
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    do {
      const page = await this.s3.send(
        new ListMultipartUploadsCommand({ Bucket: this.bucket, Prefix: prefix, KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker }),
      );
      for (const u of page.Uploads ?? []) {
        if (u.Key && u.UploadId) uploads.push({ key: u.Key, uploadId: u.UploadId, initiated: (u.Initiated ?? new Date(0)).toISOString() });
      }
      [keyMarker, uploadIdMarker] = page.IsTruncated ? [page.NextKeyMarker, page.NextUploadIdMarker] : [undefined, undefined];
    } while (keyMarker);
    return uploads.sort((a, b) => (a.initiated < b.initiated ? -1 : a.initiated > b.initiated ? 1 : 0));
  }

  async abortUpload(key: string, uploadId: string): Promise<void> {
    try {
      await this.s3.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId }));
    } catch (error) {
      if ((error as S3ServiceException).name !== 'NoSuchUpload') throw error;
    }
  }

  async size(key: string): Promise<number | null> {
    try {
      const head = await this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return head.ContentLength ?? 0;
    } catch (error) {
      if (error instanceof NotFound || (error as S3ServiceException).$metadata?.httpStatusCode === 404) return null;
      throw error;
    }
  }

  /**
   * The object's SHA-256 in one pass, its bytes read as ranged GETs several at a time and hashed in
   * order: one GET stream from S3 runs at a fraction of what the hash can take, and the completion
   * that asks for this has the API's 29 s. At most RANGES_IN_FLIGHT × RANGE_BYTES are held.
   */
  async sha256(key: string): Promise<string> {
    const size = await this.size(key);
    if (size === null) throw new Error(`No object ${key} to hash`);
    const hash = createHash('sha256');
    const read = async (start: number): Promise<Uint8Array> => {
      const end = Math.min(size, start + RANGE_BYTES) - 1;
      const { Body } = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key, Range: `bytes=${start}-${end}` }));
      return (Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray();
    };
    const pending: Promise<Uint8Array>[] = [];
    let next = 0;
    const more = () => {
      while (next < size && pending.length < RANGES_IN_FLIGHT) {
        const chunk = read(next);
        // Observed now, awaited in order below: a range failing while an earlier one is awaited is
        // not an unhandled rejection.
        chunk.catch(() => {});
        pending.push(chunk);
        next += RANGE_BYTES;
      }
    };
    more();
    let hashed = 0;
    while (pending.length > 0) {
      const chunk = await pending.shift()!;
      hash.update(chunk);
      hashed += chunk.byteLength;
      more();
    }
    if (hashed !== size) throw new Error(`Read ${hashed} bytes of ${key}, not its ${size}`);
    return hash.digest('hex');
  }

  async signGets(scope: string, keys: string[], expiresInSeconds: number): Promise<string[]> {
    const outside = keys.find((k) => !inScope(scope, k));
    if (outside !== undefined) throw new Error(`${outside} is outside the signing scope ${scope}`);
    if (keys.length === 0) return [];
    const signer = await this.signer({ action: 's3:GetObject', scope }, expiresInSeconds);
    return Promise.all(keys.map((key) => getSignedUrl(signer, new GetObjectCommand({ Bucket: this.bucket, Key: key }), { expiresIn: expiresInSeconds })));
  }

  async list(prefix: string): Promise<ListedObject[]> {
    const objects: ListedObject[] = [];
    let token: string | undefined;
    do {
      const page = await this.s3.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }));
      for (const o of page.Contents ?? []) if (o.Key && !o.Key.endsWith('/')) objects.push({ path: o.Key.slice(prefix.length), size: o.Size ?? 0 });
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return objects.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  async read(key: string): Promise<AsyncIterable<Uint8Array>> {
    const { Body } = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    return Body as Readable;
  }

  async putFile(key: string, path: string): Promise<void> {
    const { size } = await stat(path);
    await this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: createReadStream(path), ContentLength: size }));
  }

  async delete(keys: string[]): Promise<void> {
    // One DeleteObject per key, 8 at a time: the local server's signature check refuses DeleteObjects' `?delete`.
    for (let i = 0; i < keys.length; i += 8) {
      await Promise.all(keys.slice(i, i + 8).map((Key) => this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key }))));
    }
  }
}

import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NoSuchUploadError } from '../../../functions/adapters/object-store';
import { S3ObjectStore } from '../../../functions/adapters/s3-object-store';
import { startObjectServer, type LocalObjectServer } from '../../../infra/local/object-server';

const MiB = 1024 * 1024;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/**
 * The object store adapter against the local S3-compatible server: the same S3 client and presigner
 * code as in AWS. Parts go to presigned URLs with plain fetch, as a customer's client sends them.
 */
describe('S3ObjectStore on the local object server', () => {
  let dir: string;
  let server: LocalObjectServer;
  let store: S3ObjectStore;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sx-s3-'));
    server = await startObjectServer(dir);
    store = new S3ObjectStore({ client: server.client(), bucket: server.bucket });
  });
  afterAll(async () => {
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const parts = [Buffer.alloc(5 * MiB, 1), Buffer.alloc(5 * MiB, 2), Buffer.from('the last part is short')];
  const put = async (url: string, body: Buffer) => fetch(url, { method: 'PUT', body });
  const signPart = async (key: string, uploadId: string, n: number, seconds: number) => (await store.signParts(key, uploadId, [n], seconds))[0]!;

  it('takes a presigned multipart upload, lists its parts, completes it, and serves it byte-identical', async () => {
    // Arrange
    const key = 'files/acct_a/file_1';
    const uploadId = await store.createUpload(key);

    // Act
    const etags: string[] = [];
    for (const [i, body] of parts.entries()) {
      const response = await put(await signPart(key, uploadId, i + 1, 60), body);
      expect(response.status).toBe(200);
      etags.push(response.headers.get('etag')!);
    }
    const listed = await store.listParts(key, uploadId);
    await store.completeUpload(key, uploadId, listed.map((p) => ({ partNumber: p.partNumber, etag: p.etag })));

    // Assert
    expect(listed).toEqual(parts.map((b, i) => ({ partNumber: i + 1, etag: etags[i], size: b.length })));
    expect(await store.size(key)).toBe(10 * MiB + parts[2]!.length);
    expect(await store.sha256(key)).toBe(sha(Buffer.concat(parts)));
    const download = await fetch((await store.signGets(key, [key], 60))[0]!);
    expect(sha(Buffer.from(await download.arrayBuffer()))).toBe(sha(Buffer.concat(parts)));
    // A multipart object's ETag as S3 gives it: the MD5 of the parts' MD5s, and their count.
    const partMd5s = Buffer.concat(parts.map((b) => createHash('md5').update(b).digest()));
    expect(download.headers.get('etag')).toBe(`"${createHash('md5').update(partMd5s).digest('hex')}-3"`);
    await expect(store.listParts(key, uploadId)).rejects.toBeInstanceOf(NoSuchUploadError);
  });

  it('lists the open uploads under a prefix, aborts one and forgets its parts', async () => {
    const key = 'files/acct_a/file_2';
    const uploadId = await store.createUpload(key);
    const elsewhere = await store.createUpload('outputs/job_1/x');
    await put(await signPart(key, uploadId, 1, 60), parts[2]!);
    const before = Date.now();

    const open = await store.listUploads('files/acct_a/');
    await store.abortUpload(key, uploadId);
    await store.abortUpload(key, uploadId);

    expect(open.map(({ key, uploadId }) => ({ key, uploadId }))).toEqual([{ key, uploadId }]);
    expect(Date.parse(open[0]!.initiated)).toBeLessThanOrEqual(before);
    expect(await store.listUploads('files/')).toEqual([]);
    expect((await store.listUploads('outputs/')).map((u) => u.uploadId)).toEqual([elsewhere]);
    await expect(store.listParts(key, uploadId)).rejects.toBeInstanceOf(NoSuchUploadError);
    await expect(store.completeUpload(key, uploadId, [{ partNumber: 1, etag: '"x"' }])).rejects.toBeInstanceOf(NoSuchUploadError);
  });

  it('refuses unsigned requests, a tampered signature and an expired URL', async () => {
    const key = 'files/acct_a/file_3';
    const uploadId = await store.createUpload(key);
    const url = await signPart(key, uploadId, 1, 60);

    const unsigned = await put(`${server.endpoint}/${server.bucket}/${key}`, parts[2]!);
    const tampered = await put(url.replace(/X-Amz-Signature=[0-9a-f]+/, `X-Amz-Signature=${'0'.repeat(64)}`), parts[2]!);
    const otherPart = await put(url.replace('partNumber=1', 'partNumber=2'), parts[2]!);
    const shortLived = await signPart(key, uploadId, 1, 1);
    await new Promise((r) => setTimeout(r, 2100));
    const expired = await put(shortLived, parts[2]!);

    expect(unsigned.status).toBe(403);
    expect(tampered.status).toBe(403);
    // A URL signed for part 1 cannot write part 2: presigned URLs carry exactly what was signed.
    expect(otherPart.status).toBe(403);
    expect(expired.status).toBe(403);
    expect(await store.listParts(key, uploadId)).toEqual([]);
  });

  it('lists and deletes the objects under a prefix', async () => {
    await put(await signPart('outputs/job_x/a', await store.createUpload('outputs/job_x/a'), 1, 60), parts[2]!);
    const upload = await store.createUpload('outputs/job_y/model/w.bin');
    const r = await put(await signPart('outputs/job_y/model/w.bin', upload, 1, 60), parts[2]!);
    await store.completeUpload('outputs/job_y/model/w.bin', upload, [{ partNumber: 1, etag: r.headers.get('etag')! }]);

    expect(await store.list('outputs/job_y/')).toEqual([{ path: 'model/w.bin', size: parts[2]!.length }]);
    await store.delete(['outputs/job_y/model/w.bin']);
    expect(await store.list('outputs/job_y/')).toEqual([]);
  });
});

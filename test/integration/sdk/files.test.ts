import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SxApiError, SxClient, type UploadProgress } from '../../../sdk';
import { startTestStack, type TestStack } from '../../support/local-stack';

/** Per test: megabytes through the whole stack take long on a busy machine (no timing is asserted). */
const BUSY_MACHINE_MS = 120_000;

const MiB = 1024 * 1024;
const sha256 = (b: Buffer | Uint8Array) => createHash('sha256').update(b).digest('hex');

let stack: TestStack;
let dir: string;
beforeAll(async () => {
  stack = await startTestStack();
  dir = await mkdtemp(join(tmpdir(), 'sx-sdk-files-'));
}, 60_000);
afterAll(async () => {
  await stack?.drop();
  await rm(dir, { recursive: true, force: true });
}, 60_000);

async function signedUp() {
  const { api_key } = await new SxClient({ baseUrl: stack.url }).signup({ email: `files-${randomBytes(4).toString('hex')}@example.com` });
  return new SxClient({ baseUrl: stack.url, apiKey: api_key });
}

describe('SxClient.files', () => {
  it('uploads a path in parts, is stopped after the first, resumes with the rest, and the download is byte-identical', async () => {
    // Arrange
    const sx = await signedUp();
    const bytes = randomBytes(2 * 8 * MiB + 777);
    const path = join(dir, 'corpus.txt');
    await writeFile(path, bytes);
    const stop = new AbortController();
    const seen: UploadProgress[] = [];
    let fileId = '';

    // Act: one part at a time; the first part's progress report stops the upload.
    const first = await sx.files
      .upload(path, {
        sha256: sha256(bytes),
        concurrency: 1,
        signal: stop.signal,
        onCreated: (f) => (fileId = f.id),
        onProgress: (p) => (seen.push(p), p.uploadedBytes > 0 && stop.abort()),
      })
      .catch((error: unknown) => error);
    const resumed: UploadProgress[] = [];
    const file = await sx.files.upload(path, { resumeFileId: fileId, onProgress: (p) => resumed.push(p) });

    // Assert
    expect(first).toBeInstanceOf(Error);
    expect(seen.at(-1)).toEqual({ fileId, uploadedBytes: 8 * MiB, totalBytes: bytes.length });
    expect(resumed[0]).toEqual({ fileId, uploadedBytes: 8 * MiB, totalBytes: bytes.length });
    expect(resumed.at(-1)!.uploadedBytes).toBe(bytes.length);
    expect(file).toMatchObject({ id: fileId, filename: 'corpus.txt', status: 'ready', sha256: sha256(bytes) });
    const url = await sx.files.contentUrl(fileId);
    expect(sha256(new Uint8Array(await (await fetch(url)).arrayBuffer()))).toBe(sha256(bytes));
    expect((await sx.files.list()).data.map((f) => f.id)).toEqual([fileId]);
  }, BUSY_MACHINE_MS);

  it('uploads a Blob, and reports a wrong SHA-256 as invalid_upload', async () => {
    const sx = await signedUp();
    const blob = new Blob([randomBytes(100)]);

    const error = await sx.files.upload(blob, { filename: 'b.bin', sha256: '0'.repeat(64) }).catch((e: unknown) => e);
    const ok = await sx.files.upload(blob, { filename: 'c.bin', purpose: 'model' });

    expect(error).toBeInstanceOf(SxApiError);
    expect((error as SxApiError).type).toBe('invalid_upload');
    expect(ok).toMatchObject({ filename: 'c.bin', purpose: 'model', status: 'ready', size: 100 });
    await sx.files.delete(ok.id);
    expect((await sx.account()).storage.used_bytes).toBe(0);
  }, BUSY_MACHINE_MS);
});

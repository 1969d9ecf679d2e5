import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { make as makeExpireUploads } from '../../../functions/expire-uploads';
import { eventItems, signUp, startTestStack, type TestStack } from '../../support/local-stack';

/** Per test: megabytes through the whole stack take long on a busy machine (no timing is asserted). */
const BUSY_MACHINE_MS = 120_000;

const MiB = 1024 * 1024;
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

type Account = Awaited<ReturnType<typeof signUp>>;
type Part = { part_number: number; url: string; method: 'PUT'; size: number };

/** PUTs each part's slice of `bytes` to its signed URL, as a client does; returns the ETags. */
async function sendParts(bytes: Buffer, partSize: number, parts: Part[]) {
  return Promise.all(
    parts.map(async (p) => {
      const body = bytes.subarray((p.part_number - 1) * partSize, p.part_number * partSize);
      const res = await fetch(p.url, { method: p.method, body });
      expect(res.status).toBe(200);
      return { part_number: p.part_number, etag: res.headers.get('etag')! };
    }),
  );
}

/** The bytes behind GET /v1/files/{id}/content: a 302 to a signed URL, fetched. */
async function download(stack: TestStack, account: Account, fileId: string) {
  const res = await fetch(`${stack.url}/v1/files/${fileId}/content`, { headers: { authorization: `Bearer ${account.apiKey}` }, redirect: 'manual' });
  expect(res.status).toBe(302);
  const location = res.headers.get('location')!;
  expect(Number(new URL(location).searchParams.get('X-Amz-Expires'))).toBeLessThanOrEqual(3600);
  return Buffer.from(await (await fetch(location)).arrayBuffer());
}

describe('files over HTTP on the local stack', () => {
  let stack: TestStack;
  let alice: Account;
  let bob: Account;
  beforeAll(async () => {
    stack = await startTestStack({ policy: { storageQuotaBytes: 40 * MiB, maxFileBytes: 30 * MiB } });
    alice = await signUp(stack.url, 'alice@example.com');
    bob = await signUp(stack.url, 'bob@example.com');
  }, 60_000);
  afterAll(async () => stack?.drop(), 60_000);

  it('uploads a file of three parts, resumed after an interruption, byte-identical on download', async () => {
    // Arrange
    const bytes = randomBytes(2 * 8 * MiB + 12_345);
    const created = await alice.api.post('/v1/files', { filename: 'train.txt', size: bytes.length, sha256: sha256(bytes).toUpperCase() });
    expect(created.status).toBe(201);
    const { upload } = created.body;
    expect(upload.part_size).toBe(8 * MiB);
    expect(upload.parts.map((p: Part) => [p.part_number, p.size])).toEqual([[1, 8 * MiB], [2, 8 * MiB], [3, 12_345]]);

    // Act: two parts go up, then the client stops; a resume names them and signs only the third.
    const firstTwo = await sendParts(bytes, upload.part_size, upload.parts.slice(0, 2));
    const resumed = await alice.api.post(`/v1/files/${created.body.id}/upload`);
    const last = await sendParts(bytes, resumed.body.part_size, resumed.body.parts);
    const completed = await alice.api.post(`/v1/files/${created.body.id}/complete`, { parts: [...last, ...firstTwo] });

    // Assert
    expect(resumed.status).toBe(200);
    expect(resumed.body.uploaded).toEqual(firstTwo.map((p) => ({ ...p, size: 8 * MiB })));
    expect(resumed.body.parts.map((p: Part) => p.part_number)).toEqual([3]);
    expect(completed.status).toBe(200);
    expect(completed.body).toMatchObject({ id: created.body.id, status: 'ready', size: bytes.length, sha256: sha256(bytes), filename: 'train.txt', purpose: 'dataset' });
    expect(sha256(await download(stack, alice, created.body.id))).toBe(sha256(bytes));
    expect((await alice.api.post(`/v1/files/${created.body.id}/complete`, { parts: [...firstTwo, ...last] })).body).toEqual(completed.body);
    expect((await alice.api.get('/v1/account')).body.storage).toEqual({ used_bytes: bytes.length, quota_bytes: 40 * MiB });
    const deleted = await alice.api.request('DELETE', `/v1/files/${created.body.id}`);
    expect(deleted.status).toBe(204);
    expect((await alice.api.get(`/v1/files/${created.body.id}`)).status).toBe(404);
    expect((await alice.api.get('/v1/account')).body.storage.used_bytes).toBe(0);
  }, BUSY_MACHINE_MS);

  it('refuses a wrong part with invalid_upload and keeps the file uploading for another try', async () => {
    const bytes = randomBytes(8 * MiB + 10);
    const created = (await alice.api.post('/v1/files', { filename: 'w.bin', size: bytes.length, purpose: 'model' })).body;
    const parts = await sendParts(bytes, created.upload.part_size, created.upload.parts);

    const wrongEtag = await alice.api.post(`/v1/files/${created.id}/complete`, { parts: [parts[0], { part_number: 2, etag: '"0123"' }] });
    const missing = await alice.api.post(`/v1/files/${created.id}/complete`, { parts: [parts[0]] });
    // A part of the wrong length: the client sent 9 bytes where 10 belong.
    await fetch(created.upload.parts[1].url, { method: 'PUT', body: bytes.subarray(8 * MiB + 1) });
    const short = await alice.api.post(`/v1/files/${created.id}/complete`, { parts });

    for (const res of [wrongEtag, missing, short]) {
      expect(res.status).toBe(422);
      expect(res.body.type).toBe('invalid_upload');
    }
    expect((await alice.api.get(`/v1/files/${created.id}`)).body.status).toBe('uploading');
    const again = await sendParts(bytes, created.upload.part_size, [created.upload.parts[1]]);
    const done = await alice.api.post(`/v1/files/${created.id}/complete`, { parts: [parts[0], ...again] });
    expect(done.body.status).toBe('ready');
    await alice.api.request('DELETE', `/v1/files/${created.id}`);
  }, BUSY_MACHINE_MS);

  it('fails a file whose bytes do not have the declared SHA-256, and frees its storage', async () => {
    const bytes = randomBytes(1000);
    const created = (await alice.api.post('/v1/files', { filename: 'x', size: 1000, sha256: sha256(Buffer.from('other')) })).body;
    const parts = await sendParts(bytes, created.upload.part_size, created.upload.parts);

    const res = await alice.api.post(`/v1/files/${created.id}/complete`, { parts });

    expect(res.status).toBe(422);
    expect(res.body.type).toBe('invalid_upload');
    expect((await alice.api.get(`/v1/files/${created.id}`)).body).toMatchObject({ status: 'failed', failure_reason: 'sha256_mismatch' });
    expect((await alice.api.get('/v1/account')).body.storage.used_bytes).toBe(0);
    expect((await alice.api.post(`/v1/files/${created.id}/complete`, { parts })).body.type).toBe('invalid_state');
    const content = await fetch(`${stack.url}/v1/files/${created.id}/content`, { headers: { authorization: `Bearer ${alice.apiKey}` }, redirect: 'manual' });
    expect(content.status).toBe(409);
  }, BUSY_MACHINE_MS);

  it('refuses a file past the storage quota (409) or the largest size (413), writing nothing', async () => {
    const first = await bob.api.post('/v1/files', { filename: 'a', size: 25 * MiB });
    const before = await eventItems(stack);

    const overQuota = await bob.api.post('/v1/files', { filename: 'b', size: 20 * MiB });
    const tooLarge = await bob.api.post('/v1/files', { filename: 'c', size: 30 * MiB + 1 });
    const invalid = await bob.api.post('/v1/files', { filename: 'a/b', size: 0, sha256: 'xyz', extra: 1 });

    expect(first.status).toBe(201);
    expect([overQuota.status, overQuota.body.type]).toEqual([409, 'quota_exceeded']);
    expect([tooLarge.status, tooLarge.body.type]).toEqual([413, 'payload_too_large']);
    expect(invalid.status).toBe(400);
    expect(invalid.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['extra', 'filename', 'sha256', 'size']);
    expect(await eventItems(stack)).toBe(before);
    // Deleting the unfinished upload frees its room at once.
    expect((await bob.api.request('DELETE', `/v1/files/${first.body.id}`)).status).toBe(204);
    expect((await bob.api.post('/v1/files', { filename: 'b', size: 20 * MiB })).status).toBe(201);
  }, BUSY_MACHINE_MS);

  it('lists the caller’s own files newest first, by purpose, in pages', async () => {
    const ids: string[] = [];
    for (const purpose of ['dataset', 'model', 'dataset']) ids.push((await alice.api.post('/v1/files', { filename: `${purpose}.bin`, size: 10, purpose })).body.id);

    const datasets = await alice.api.get('/v1/files?purpose=dataset&limit=1');
    const next = await alice.api.get(`/v1/files?purpose=dataset&limit=1&cursor=${datasets.body.next_cursor}`);
    const bobs = await bob.api.get('/v1/files');

    expect(datasets.body.data.map((f: { id: string }) => f.id)).toEqual([ids[2]]);
    expect(datasets.body.has_more).toBe(true);
    expect(next.body.data.map((f: { id: string }) => f.id)).toEqual([ids[0]]);
    expect(bobs.body.data.map((f: { id: string }) => f.id)).not.toContain(ids[0]);
    expect((await bob.api.post(`/v1/files/${ids[0]}/upload`)).status).toBe(404);
  }, BUSY_MACHINE_MS);
  // Last: the sweep, run a day ahead, ends every upload still open in this stack.
  it('fails an upload abandoned for 24 h, deletes its parts and frees its storage; a fresh one is left alone', async () => {
    // Arrange
    const carol = await signUp(stack.url, 'carol@example.com');
    const bytes = randomBytes(8 * MiB + 1);
    const old = (await carol.api.post('/v1/files', { filename: 'old.bin', size: bytes.length })).body;
    await sendParts(bytes, old.upload.part_size, old.upload.parts.slice(0, 1));
    const ready = (await carol.api.post('/v1/files', { filename: 'done.txt', size: 3 })).body;
    await carol.api.post(`/v1/files/${ready.id}/complete`, { parts: await sendParts(Buffer.from('abc'), ready.upload.part_size, ready.upload.parts) });
    const key = `files/${carol.accountId}/${old.id}`;
    const dayLater = new Date(Date.now() + 24 * 3600 * 1000 + 60_000);

    // Act: once at the current time (nothing is old enough), then a day later, twice.
    const early = await makeExpireUploads(stack.deps)();
    const sweep = makeExpireUploads({ ...stack.deps, now: () => dayLater });
    const first = await sweep();
    const second = await sweep();

    // Assert
    expect(early.expired).not.toContain(old.id);
    expect(first.expired).toContain(old.id);
    expect(second).toEqual({ expired: [], aborted: 0 });
    expect((await carol.api.get(`/v1/files/${old.id}`)).body).toMatchObject({ status: 'failed', failure_reason: 'expired' });
    expect((await carol.api.get(`/v1/files/${ready.id}`)).body.status).toBe('ready');
    expect((await carol.api.get('/v1/account')).body.storage.used_bytes).toBe(3);
    expect((await stack.deps.objects.listUploads('files/')).map((u) => u.key)).not.toContain(key);
    expect((await carol.api.post(`/v1/files/${old.id}/upload`)).status).toBeGreaterThanOrEqual(400);
  }, BUSY_MACHINE_MS);
});

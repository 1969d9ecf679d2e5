import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoClients } from '../../functions/adapters/dynamodb';
import { deleteTables } from '../../infra/local/create-tables';
import { apiClient, startStackProcess, type StackProcess } from '../../infra/local/stack-process';
import { tableNames } from '../../infra/tables';
import { testDynamoEndpoint } from '../support/dynamodb';

/**
 * A crash during an upload: `npm start`'s entry is SIGKILLed after two of three parts are in the
 * local object server, restarted on the same data directory (its objects and uploads live under
 * `<SX_DATA_DIR>/objects`), and the upload resumes with fresh URLs for the missing part only,
 * completes, and downloads byte-identical. Runs on the suite's DynamoDB Local, as the crash test does.
 */
const MiB = 2 ** 20;
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const prefix = `sx-upcrash-${process.pid}`;
let dataDir: string;
let stack: StackProcess | undefined;
const start = async () => (stack = await startStackProcess({ SX_DYNAMODB_ENDPOINT: testDynamoEndpoint(), SX_TABLE_PREFIX: prefix }, { dataDir }));

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'sx-upcrash-'));
}, 30_000);
afterAll(async () => {
  if (stack) await stack.kill('SIGKILL');
  const { client } = createDynamoClients({ endpoint: testDynamoEndpoint() });
  await deleteTables(client, tableNames(prefix)).finally(() => client.destroy());
  await rm(dataDir, { recursive: true, force: true });
}, 60_000);

type Part = { part_number: number; url: string; size: number };
const put = async (bytes: Buffer, partSize: number, p: Part) => {
  const res = await fetch(p.url, { method: 'PUT', body: bytes.subarray((p.part_number - 1) * partSize, p.part_number * partSize) });
  expect(res.status).toBe(200);
  return { part_number: p.part_number, etag: res.headers.get('etag')! };
};

describe('an upload across a crash of the stack', () => {
  it('resumes after a SIGKILL and a restart, sending only the missing part, and completes byte-identical', async () => {
    // Arrange: two of three parts sent, then the stack dies.
    await start();
    const signup = await apiClient(stack!.url).post('/v1/signup', { email: 'crash-upload@example.com' });
    const key = signup.body.api_key as string;
    const bytes = randomBytes(2 * 8 * MiB + 777);
    const created = (await apiClient(stack!.url, key).post('/v1/files', { filename: 'big.bin', size: bytes.length, sha256: sha256(bytes) })).body;
    const sent = [];
    for (const p of created.upload.parts.slice(0, 2)) sent.push(await put(bytes, created.upload.part_size, p));
    await stack!.kill('SIGKILL');

    // Act: restart on the same data, resume, send the rest, complete.
    await start();
    const api = apiClient(stack!.url, key);
    const resumed = await api.post(`/v1/files/${created.id}/upload`);
    const rest = [];
    for (const p of resumed.body.parts) rest.push(await put(bytes, resumed.body.part_size, p));
    const completed = await api.post(`/v1/files/${created.id}/complete`, { parts: [...sent, ...rest] });

    // Assert
    expect(resumed.status).toBe(200);
    expect(resumed.body.uploaded.map((u: { part_number: number; etag: string }) => [u.part_number, u.etag])).toEqual(sent.map((s) => [s.part_number, s.etag]));
    expect(resumed.body.parts.map((p: Part) => p.part_number)).toEqual([3]);
    expect([completed.status, completed.body.status]).toEqual([200, 'ready']);
    const location = (await fetch(`${stack!.url}/v1/files/${created.id}/content`, { headers: { authorization: `Bearer ${key}` }, redirect: 'manual' })).headers.get('location')!;
    expect(sha256(Buffer.from(await (await fetch(location)).arrayBuffer()))).toBe(sha256(bytes));
  }, 240_000);
});

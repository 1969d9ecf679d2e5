import { AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateMultipartUploadCommand, ListMultipartUploadsCommand, PutObjectCommand, S3Client, UploadPartCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Server } from 'node:http';
import { Cloud, FUNCTION_ACCESS_KEY, startStandIns } from './stand-ins';
import type { GuardLog } from './guard';

/** The stand-ins' own rules, on the SDK's requests: each refuses what the service refuses. */
describe('the STS and S3 stand-ins', () => {
  const region = 'us-east-1';
  const signer = 'arn:aws:iam::123456789012:role/url-signer';
  const statement = (Action: string, Resource: string, Condition?: unknown) => ({ Effect: 'Allow', Action, Resource, ...(Condition ? { Condition } : {}) });
  const document = (...Statement: unknown[]) => ({ Version: '2012-10-17', Statement });
  const cloud = new Cloud(region, new Map());
  cloud.roles.set(signer, { policies: [{ name: 'signing', policy: document(statement('s3:PutObject', 'arn:aws:s3:::data/files/*')) }], maxSessionSeconds: 3600 });
  const log: GuardLog = { requests: 0, denied: [], decisions: [] };
  let server: Server;
  let sts: STSClient;
  let s3: S3Client;
  let endpoint: string;

  beforeAll(async () => {
    const policies = [
      {
        name: 'function',
        policy: document(
          statement('sts:AssumeRole', signer),
          statement('s3:PutObject', 'arn:aws:s3:::data/files/*'),
          statement('s3:AbortMultipartUpload', 'arn:aws:s3:::data/files/*'),
          // As the upload sweep's grant once was: a prefix condition on an action that has no prefix key.
          statement('s3:ListBucketMultipartUploads', 'arn:aws:s3:::data', { StringLike: { 's3:prefix': ['files/*'] } }),
        ),
      },
    ];
    ({ server, endpoint } = await startStandIns({ cloud, principal: 'arn:aws:iam::123456789012:role/fn', policies, log }));
    const credentials = { accessKeyId: FUNCTION_ACCESS_KEY, secretAccessKey: 'rehearsal', sessionToken: 'rehearsal' };
    sts = new STSClient({ region, endpoint, credentials });
    s3 = new S3Client({ region, endpoint, credentials, forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED' });
  });
  afterAll(() => {
    sts?.destroy();
    s3?.destroy();
    server?.close();
  });

  const session = async (DurationSeconds: number, Resource = 'arn:aws:s3:::data/files/a') =>
    (await sts.send(new AssumeRoleCommand({ RoleArn: signer, RoleSessionName: 'sx-signed-urls', DurationSeconds, Policy: JSON.stringify(document(statement('s3:PutObject', Resource))) }))).Credentials!;

  it('refuses a chained role session over an hour, as STS does', async () => {
    await expect(session(7200)).rejects.toThrow(/DurationSeconds 7200/);
    expect((await session(900)).AccessKeyId).toMatch(/^ASIA/);
  });

  it("evaluates a presigned URL as its session: the role's grants narrowed by the session policy, and not past the session's end", async () => {
    const c = await session(900);
    const signed = new S3Client({ region, endpoint, forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED', credentials: { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! } });
    const url = (Key: string, expiresIn: number) => getSignedUrl(signed, new PutObjectCommand({ Bucket: 'data', Key }), { expiresIn });
    expect((await fetch(await url('files/a', 600), { method: 'PUT', body: 'x' })).status).toBe(200);
    // The role may put any file; this session only files/a.
    expect((await fetch(await url('files/b', 600), { method: 'PUT', body: 'x' })).status).toBe(403);
    // A URL that outlives the session it was signed in.
    const late = await fetch(await url('files/a', 3600), { method: 'PUT', body: 'x' });
    expect([late.status, await late.text()]).toEqual([400, expect.stringContaining('outlives its session')]);
    signed.destroy();
  });

  it('refuses to complete an upload with a part under 5 MiB that is not the last, or a part whose ETag differs', async () => {
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'data', Key: 'files/big' }));
    const parts = [];
    for (const PartNumber of [1, 2]) parts.push({ PartNumber, ETag: (await s3.send(new UploadPartCommand({ Bucket: 'data', Key: 'files/big', UploadId, PartNumber, Body: Buffer.alloc(1024, PartNumber) }))).ETag });
    await expect(s3.send(new CompleteMultipartUploadCommand({ Bucket: 'data', Key: 'files/big', UploadId, MultipartUpload: { Parts: [{ ...parts[1]!, ETag: '"0"' }] } }))).rejects.toThrow(/InvalidPart|ETag differs/);
    await expect(s3.send(new CompleteMultipartUploadCommand({ Bucket: 'data', Key: 'files/big', UploadId, MultipartUpload: { Parts: parts } }))).rejects.toThrow(/EntityTooSmall|under 5 MiB/);
    await s3.send(new AbortMultipartUploadCommand({ Bucket: 'data', Key: 'files/big', UploadId }));
    expect(cloud.uploads.size).toBe(0);
  });

  it('denies ListMultipartUploads under a prefix condition: the action has no s3:prefix key, so the condition never matches', async () => {
    await expect(s3.send(new ListMultipartUploadsCommand({ Bucket: 'data', Prefix: 'files/' }))).rejects.toThrow(/AccessDenied|Access Denied/);
    expect(log.denied.map((d) => d.action)).toContain('s3:ListBucketMultipartUploads');
  });
});

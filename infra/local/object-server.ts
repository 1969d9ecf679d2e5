import { createHash } from 'node:crypto';
import { mkdir, open, readFile, readdir, rm, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import S3rver from '@20minutes/s3rver';
import { S3Client } from '@aws-sdk/client-s3';

const require = createRequire(import.meta.url);
// s3rver's own SigV4 check (header and presigned query), reused for the two operations added below.
const authentication = require('@20minutes/s3rver/lib/middleware/authentication.js') as () => (ctx: KoaContext, next: () => Promise<void>) => Promise<void>;

/** The local server's fixed credentials: they never leave this machine (clients get presigned URLs only). */
export const LOCAL_S3_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
/** The local stack's bucket (files, outputs, checkpoints), as `SX_OUTPUT_BUCKET` names S3's. */
export const LOCAL_BUCKET = 'sx-local-data';

/**
 * The bucket's CORS rule: the web console, on another origin, sends signed parts and reads each part's
 * ETag. The signature still authorizes. In AWS the rule names the console's origin only
 * (`browserCorsRule`, infra/cdk/stateless-stack.ts); locally the console's port is chosen at start.
 */
const BROWSER_CORS = `<CORSConfiguration><CORSRule>
<AllowedOrigin>*</AllowedOrigin><AllowedMethod>PUT</AllowedMethod><AllowedMethod>GET</AllowedMethod><AllowedMethod>HEAD</AllowedMethod>
<AllowedHeader>*</AllowedHeader><ExposeHeader>ETag</ExposeHeader><MaxAgeSeconds>3600</MaxAgeSeconds>
</CORSRule></CORSConfiguration>`;

export interface LocalObjectServer {
  endpoint: string;
  bucket: string;
  /** An S3 client for this server, as the AWS SDK talks to S3 (path-style addressing). */
  client(): S3Client;
  stop(): Promise<void>;
}

interface KoaContext {
  method: string;
  path: string;
  query: Record<string, string | undefined>;
  headers: Record<string, string | string[] | undefined>;
  params?: Record<string, string>;
  status: number;
  type: string;
  body: unknown;
}

/**
 * Starts an S3-compatible server on 127.0.0.1 (a free port) with its objects under `directory`, so
 * a restart keeps them, and one bucket. The same S3 client and presigner code as in AWS talk to it.
 *
 * The server is s3rver's maintained fork (`@20minutes/s3rver`, Node 20): it checks SigV4 signatures
 * of presigned URLs (expiry included) and does presigned multipart uploads. The original `s3rver`
 * accepts any SigV4 signature at all. What the fork lacks and our data path uses is added here, in
 * front of its router: `ListParts` (resuming an upload), `ListMultipartUploads` and
 * `AbortMultipartUpload` (the sweep of abandoned uploads) and `NoSuchUpload` on completing an upload that is gone, read from its own
 * on-disk layout; and, as a private S3 bucket does, a refusal
 * of unsigned requests. Completion's part checks are ours (functions/files), identical in AWS.
 */
export async function startObjectServer(directory: string, bucket = LOCAL_BUCKET): Promise<LocalObjectServer> {
  await mkdir(directory, { recursive: true });
  const server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory, configureBuckets: [{ name: bucket, configs: [BROWSER_CORS] }] });
  const uploadsDir = join(directory, bucket, '._S3rver_uploads');
  const app = server as unknown as { middleware: Array<(ctx: KoaContext, next: () => Promise<void>) => Promise<void>> };
  // Just before the router, after s3rver's logger, XML encoder and mount-path middleware.
  app.middleware.splice(app.middleware.length - 1, 0, (ctx, next) => extraOperations(ctx, next, uploadsDir, bucket));
  const store = (server as unknown as { store: FilesystemStore }).store;
  store.putObjectMultipart = (bucketName, uploadId, parts) => completeLikeS3(store, bucketName, uploadId, parts);
  const info = (await server.run()) as { address: string; port: number };
  const endpoint = `http://127.0.0.1:${info.port}`;
  let client: S3Client | undefined;
  return {
    endpoint,
    bucket,
    client: () => (client ??= localS3Client(endpoint)),
    stop: async () => {
      client?.destroy();
      await server.close();
    },
  };
}

/** What of s3rver's filesystem store the completion below uses. */
interface FilesystemStore {
  getResourcePath(bucket: string, key: string | undefined, resource: string): string;
  putMetadata(bucket: string, key: string, metadata: Record<string, unknown>, md5: string): Promise<void>;
  putObjectMultipart(bucket: string, uploadId: string, parts: Array<{ number: number; etag: string }>): Promise<{ md5: string; size: number }>;
}

const COPY_BUFFER_BYTES = 8 * 2 ** 20;

/**
 * `CompleteMultipartUpload` as S3 does it. s3rver's own completion streams the parts into the object
 * through an MD5 of the whole (a second hash pass over every byte, seconds per GiB); S3 instead names a
 * multipart object by the MD5 of its parts' MD5s, `"<hex>-<count>"`, which s3rver already has from the
 * parts' uploads. This copies the parts into the object with one buffer and takes S3's ETag. (Which
 * parts, and that their ETags match, our completion checks before it calls this: functions/api/file-route.ts.)
 */
async function completeLikeS3(store: FilesystemStore, bucket: string, uploadId: string, parts: Array<{ number: number }>): Promise<{ md5: string; size: number }> {
  const dir = join(store.getResourcePath(bucket, undefined, 'uploads'), uploadId);
  const [key, metadata] = await Promise.all([readFile(join(dir, 'key'), 'utf8'), readFile(join(dir, 'metadata'), 'utf8').then(JSON.parse)]);
  const numbers = parts.map((p) => p.number).sort((a, b) => a - b);
  const md5s = await Promise.all(numbers.map((n) => readFile(join(dir, `${n}.md5`), 'utf8')));
  const etag = `${createHash('md5')
    .update(Buffer.concat(md5s.map((h) => Buffer.from(h.trim(), 'hex'))))
    .digest('hex')}-${numbers.length}`;
  const objectPath = store.getResourcePath(bucket, key, 'object');
  await mkdir(dirname(objectPath), { recursive: true });
  const out = await open(objectPath, 'w');
  const buffer = Buffer.allocUnsafe(COPY_BUFFER_BYTES);
  let size = 0;
  try {
    for (const n of numbers) {
      const part = await open(join(dir, String(n)), 'r');
      try {
        for (let read = (await part.read(buffer, 0, buffer.length)).bytesRead; read > 0; read = (await part.read(buffer, 0, buffer.length)).bytesRead) {
          await out.write(buffer, 0, read);
          size += read;
        }
      } finally {
        await part.close();
      }
    }
  } finally {
    await out.close();
  }
  await store.putMetadata(bucket, key, metadata, etag);
  await rm(dir, { recursive: true, force: true });
  return { md5: etag, size };
}

/**
 * An S3 client for a local S3-compatible server. The SDK addresses a bucket path-style as
 * `/<bucket>/` (ListObjectsV2); s3rver signs it as `/<bucket>`, so bucket-level requests drop the
 * trailing slash before they are signed. Object requests are sent exactly as to S3.
 */
export function localS3Client(endpoint: string): S3Client {
  // Checksums only where S3 requires them: s3rver does not read the aws-chunked trailing checksums
  // the SDK otherwise sends with a streamed PutObject.
  const client = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: LOCAL_S3_CREDENTIALS, requestChecksumCalculation: 'WHEN_REQUIRED' });
  client.middlewareStack.add(
    (next) => async (args) => {
      const request = args.request as { path?: string };
      if (typeof request.path === 'string' && /^\/[^/]+\/$/.test(request.path)) request.path = request.path.slice(0, -1);
      return next(args);
    },
    { step: 'build', name: 'localBucketPath' },
  );
  return client;
}

async function extraOperations(ctx: KoaContext, next: () => Promise<void>, uploadsDir: string, bucket: string): Promise<void> {
  const signed = 'authorization' in ctx.headers || 'X-Amz-Signature' in ctx.query || 'Signature' in ctx.query;
  if (!signed && ctx.method !== 'OPTIONS') return xmlError(ctx, 403, 'AccessDenied', 'Access Denied');
  if (ctx.method === 'GET' && 'uploads' in ctx.query && /^\/[^/]+\/?$/.test(ctx.path)) return listUploads(ctx, uploadsDir, bucket);
  const match = /^\/([^/]+)\/(.+)$/.exec(ctx.path);
  const uploadId = ctx.query.uploadId;
  const listParts = ctx.method === 'GET' && uploadId !== undefined;
  const abort = ctx.method === 'DELETE' && uploadId !== undefined;
  const complete = ctx.method === 'POST' && uploadId !== undefined;
  if (!match || !(listParts || abort || complete)) return next();
  ctx.params = { bucket: match[1]!, key: decodeURIComponent(match[2]!) };
  await authentication()(ctx, async () => {
    // Upload ids are s3rver's hex digests: nothing else may name a directory.
    const dir = /^[0-9a-f]{8,128}$/.test(uploadId!) && match[1] === bucket ? join(uploadsDir, uploadId!) : null;
    const key = dir ? await readFile(join(dir, 'key'), 'utf8').catch(() => null) : null;
    if (key === null || key !== ctx.params!.key) return xmlError(ctx, 404, 'NoSuchUpload', 'The specified upload does not exist.');
    if (complete) return next();
    if (abort) {
      await rm(dir!, { recursive: true, force: true });
      ctx.status = 204;
      return;
    }
    const numbers = (await readdir(dir!)).filter((f) => /^\d+$/.test(f)).map(Number).sort((a, b) => a - b);
    const parts = await Promise.all(
      numbers.map(async (n) => {
        const [info, md5] = await Promise.all([stat(join(dir!, String(n))), readFile(join(dir!, `${n}.md5`), 'utf8')]);
        return `<Part><PartNumber>${n}</PartNumber><LastModified>${info.mtime.toISOString()}</LastModified><ETag>"${md5.trim()}"</ETag><Size>${info.size}</Size></Part>`;
      }),
    );
    ctx.status = 200;
    ctx.type = 'application/xml';
    ctx.body =
      '<?xml version="1.0" encoding="UTF-8"?>\n<ListPartsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
      `<Bucket>${bucket}</Bucket><Key>${escapeXml(key)}</Key><UploadId>${uploadId}</UploadId>` +
      `<MaxParts>10000</MaxParts><IsTruncated>false</IsTruncated>${parts.join('')}</ListPartsResult>`;
  });
}

/** `ListMultipartUploads` (`GET /<bucket>?uploads&prefix=`), from s3rver's upload directories: one page, oldest first. */
async function listUploads(ctx: KoaContext, uploadsDir: string, bucket: string): Promise<void> {
  const name = ctx.path.split('/')[1]!;
  ctx.params = { bucket: name };
  await authentication()(ctx, async () => {
    if (name !== bucket) return xmlError(ctx, 404, 'NoSuchBucket', 'The specified bucket does not exist');
    const prefix = ctx.query.prefix ?? '';
    const ids = (await readdir(uploadsDir).catch(() => [] as string[])).filter((id) => /^[0-9a-f]{8,128}$/.test(id));
    const uploads = (
      await Promise.all(
        ids.map(async (id) => {
          const keyFile = join(uploadsDir, id, 'key');
          const [key, info] = await Promise.all([readFile(keyFile, 'utf8').catch(() => null), stat(keyFile).catch(() => null)]);
          return key !== null && info && key.startsWith(prefix) ? { id, key, initiated: info.mtime.toISOString() } : null;
        }),
      )
    )
      .filter((u) => u !== null)
      .sort((a, b) => (a.initiated < b.initiated ? -1 : 1));
    ctx.status = 200;
    ctx.type = 'application/xml';
    ctx.body =
      '<?xml version="1.0" encoding="UTF-8"?>\n<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
      `<Bucket>${bucket}</Bucket><Prefix>${escapeXml(prefix)}</Prefix><MaxUploads>10000</MaxUploads><IsTruncated>false</IsTruncated>` +
      uploads.map((u) => `<Upload><Key>${escapeXml(u.key)}</Key><UploadId>${u.id}</UploadId><Initiated>${u.initiated}</Initiated></Upload>`).join('') +
      '</ListMultipartUploadsResult>';
  });
}

function xmlError(ctx: KoaContext, status: number, code: string, message: string): void {
  ctx.status = status;
  ctx.type = 'application/xml';
  ctx.body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`;
}

const escapeXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

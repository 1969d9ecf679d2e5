import { BatchClient, SubmitJobCommand } from '@aws-sdk/client-batch';
import { S3Client } from '@aws-sdk/client-s3';
import { STSClient } from '@aws-sdk/client-sts';
import { describe, expect, it } from 'vitest';
import { submitJobInput } from '../../../../functions/adapters/batch-compute';
import type { ComputeJobSpec } from '../../../../functions/adapters/compute';
import { S3_CLIENT_OPTIONS, S3ObjectStore } from '../../../../functions/adapters/s3-object-store';
import { stsScopedCredentials } from '../../../../functions/adapters/sts-scoped-credentials';
import { recordingHandler, testCredentials, type RecordedRequest } from '../../../support/recorded-aws';

// The data path's requests to AWS exactly as the real SDK serializes and signs them: what S3 and
// Batch receive, field names and all, answered in each service's wire format.

const JOB = 'job_01jd0000000000000000000000';
const spec: ComputeJobSpec = {
  jobId: JOB,
  accountId: 'acct_01jd0000000000000000000000',
  image: 'ghcr.io/acme/train:1',
  command: ['python', 'train.py'],
  env: {},
  gpuType: 'a100',
  gpuCount: 1,
  timeoutSeconds: 3570,
  graceSeconds: 30,
  inputs: [
    { name: 'data', kind: 'file', key: 'files/acct_1/file_1', filename: 'train set.txt', extract: false },
    { name: 'corpus', kind: 'file', key: 'files/acct_1/file_2', filename: 'corpus.tar.gz', extract: true },
    { name: 'base', kind: 'job', prefix: 'outputs/job_0/' },
  ],
};

describe('SubmitJob with inputs', () => {
  it('tells the node, in SX_INPUTS, where each input is and how to lay it out under SX_INPUT_DIR', async () => {
    const recorder = recordingHandler(() => ({ body: JSON.stringify({ jobId: 'batch-1', jobName: JOB, jobArn: 'arn:aws:batch:us-east-1:123:job/batch-1' }) }));
    const batch = new BatchClient({ region: 'us-east-1', credentials: testCredentials, requestHandler: recorder.handler });

    await batch.send(new SubmitJobCommand(submitJobInput(spec, { jobQueue: 'q', jobDefinition: 'd', bucket: 'sx-data' })));

    const [request] = recorder.requests;
    expect([request!.method, request!.path]).toEqual(['POST', '/v1/submitjob']);
    const env = Object.fromEntries(JSON.parse(request!.body).containerOverrides.environment.map((e: { name: string; value: string }) => [e.name, e.value]));
    expect(env.SX_INPUT_DIR).toBe('/sx/input');
    expect(Buffer.from(env.SX_INPUTS, 'base64').toString('utf8')).toBe(
      [
        'data\tfile\ts3://sx-data/files/acct_1/file_1\ttrain set.txt\t0',
        'corpus\tfile\ts3://sx-data/files/acct_1/file_2\tcorpus.tar.gz\t1',
        'base\tjob\ts3://sx-data/outputs/job_0/\t\t0',
        '',
      ].join('\n'),
    );
  });

  it('sends no SX_INPUTS for a job without inputs', () => {
    const { containerOverrides } = submitJobInput({ ...spec, inputs: [] }, { jobQueue: 'q', jobDefinition: 'd', bucket: 'sx-data' });
    expect(containerOverrides!.environment!.map((e) => e.name)).not.toContain('SX_INPUTS');
  });
});

describe('S3 requests of the data path', () => {
  const xml = (body: string) => ({ body: `<?xml version="1.0" encoding="UTF-8"?>\n${body}`, contentType: 'application/xml' });
  function store(respond: (r: RecordedRequest) => { body: string; contentType?: string; status?: number }) {
    const recorder = recordingHandler(respond);
    const client = new S3Client({ ...S3_CLIENT_OPTIONS, region: 'us-east-1', credentials: testCredentials, requestHandler: recorder.handler });
    return { objects: new S3ObjectStore({ client, bucket: 'sx-data' }), requests: recorder.requests };
  }

  it('starts, lists, completes and aborts multipart uploads with the upload id and parts named exactly', async () => {
    const { objects, requests } = store((r) => {
      if (r.method === 'POST' && 'uploads' in r.query) return xml('<InitiateMultipartUploadResult><Bucket>sx-data</Bucket><Key>files/a/f</Key><UploadId>up-1</UploadId></InitiateMultipartUploadResult>');
      if (r.method === 'GET' && 'uploads' in r.query) {
        return xml(
          '<ListMultipartUploadsResult><Bucket>sx-data</Bucket><IsTruncated>false</IsTruncated>' +
            '<Upload><Key>files/a/f</Key><UploadId>up-1</UploadId><Initiated>2026-12-01T00:00:00.000Z</Initiated></Upload></ListMultipartUploadsResult>',
        );
      }
      if (r.method === 'GET') return xml('<ListPartsResult><IsTruncated>false</IsTruncated><Part><PartNumber>1</PartNumber><ETag>"e1"</ETag><Size>8388608</Size></Part></ListPartsResult>');
      if (r.method === 'POST') return xml('<CompleteMultipartUploadResult><Bucket>sx-data</Bucket><Key>files/a/f</Key><ETag>"x-1"</ETag></CompleteMultipartUploadResult>');
      return { body: '', status: 204 };
    });

    expect(await objects.createUpload('files/a/f')).toBe('up-1');
    expect(await objects.listParts('files/a/f', 'up-1')).toEqual([{ partNumber: 1, etag: '"e1"', size: 8388608 }]);
    await objects.completeUpload('files/a/f', 'up-1', [{ partNumber: 1, etag: '"e1"' }]);
    expect(await objects.listUploads('files/')).toEqual([{ key: 'files/a/f', uploadId: 'up-1', initiated: '2026-12-01T00:00:00.000Z' }]);
    await objects.abortUpload('files/a/f', 'up-1');

    expect(requests.map((r) => [r.method, r.path, r.query])).toEqual([
      ['POST', '/files/a/f', { uploads: '' }],
      ['GET', '/files/a/f', { uploadId: 'up-1', 'x-id': 'ListParts' }],
      ['POST', '/files/a/f', { uploadId: 'up-1' }],
      ['GET', '/', { uploads: '', prefix: 'files/' }],
      ['DELETE', '/files/a/f', { uploadId: 'up-1', 'x-id': 'AbortMultipartUpload' }],
    ]);
    expect(requests.every((r) => r.headers.host === 'sx-data.s3.us-east-1.amazonaws.com' && r.headers.authorization?.startsWith('AWS4-HMAC-SHA256'))).toBe(true);
    expect(requests[2]!.body).toBe(
      '<?xml version="1.0" encoding="UTF-8"?><CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Part><ETag>&quot;e1&quot;</ETag><PartNumber>1</PartNumber></Part></CompleteMultipartUpload>',
    );
  });

  // With the SDK's default checksums the part URL would carry the CRC32 of an empty body, and S3 would refuse every part.
  it('signs one part of one upload (no checksum of a body it has not seen), and one object for download, for at most the time asked', async () => {
    const { objects, requests } = store(() => ({ body: '' }));

    const part = new URL((await objects.signParts('files/a/f', 'up-1', [3], 3600))[0]!);
    const get = new URL((await objects.signGets('outputs/job_1/', ['outputs/job_1/model.bin'], 900))[0]!);

    expect(requests).toEqual([]); // signing sends nothing
    expect([part.host, part.pathname]).toEqual(['sx-data.s3.us-east-1.amazonaws.com', '/files/a/f']);
    expect(Object.fromEntries([...part.searchParams].filter(([k]) => !['X-Amz-Credential', 'X-Amz-Date', 'X-Amz-Signature'].includes(k)))).toEqual({
      'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
      'X-Amz-Content-Sha256': 'UNSIGNED-PAYLOAD',
      'X-Amz-Expires': '3600',
      'X-Amz-SignedHeaders': 'host',
      partNumber: '3',
      uploadId: 'up-1',
      'x-id': 'UploadPart',
    });
    expect([get.pathname, get.searchParams.get('X-Amz-Expires'), get.searchParams.get('x-id')]).toEqual(['/outputs/job_1/model.bin', '900', 'GetObject']);
  });

  describe('URLs signed by sessions scoped to what they sign', () => {
    const ROLE = 'arn:aws:iam::123456789012:role/sx-stateful-StorageUrlSigner';
    /** S3 on one recorder, STS on another; each AssumeRole answers with a new session. */
    function scopedStore() {
      const sts = recordingHandler((r) => {
        const n = sts.requests.indexOf(r) + 1;
        return {
          contentType: 'text/xml',
          body:
            '<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials>' +
            `<AccessKeyId>ASIASESSION${n}</AccessKeyId><SecretAccessKey>secret-${n}</SecretAccessKey><SessionToken>token-${n}</SessionToken>` +
            '<Expiration>2026-12-05T15:00:00Z</Expiration></Credentials><AssumedRoleUser><AssumedRoleId>AROA:sx-signed-urls</AssumedRoleId>' +
            `<Arn>${ROLE}/sx-signed-urls</Arn></AssumedRoleUser></AssumeRoleResult></AssumeRoleResponse>`,
        };
      });
      const s3 = recordingHandler(() => ({ body: '' }));
      const client = new S3Client({ ...S3_CLIENT_OPTIONS, region: 'us-east-1', credentials: testCredentials, requestHandler: s3.handler });
      const stsClient = new STSClient({ region: 'us-east-1', credentials: testCredentials, requestHandler: sts.handler });
      const objects = new S3ObjectStore({ client, bucket: 'sx-data', scopedCredentials: stsScopedCredentials(stsClient, { roleArn: ROLE, bucket: 'sx-data' }) });
      const assumed = () => sts.requests.map((r) => Object.fromEntries(new URLSearchParams(r.body)));
      return { objects, assumed, s3Requests: s3.requests };
    }
    const sessionOf = (url: string) => {
      const u = new URL(url);
      return { key: u.searchParams.get('X-Amz-Credential')!.split('/')[0], token: u.searchParams.get('X-Amz-Security-Token') };
    };

    it("signs every part of an upload in one session allowed to write that one key: no part URL can reach another account's files", async () => {
      const { objects, assumed, s3Requests } = scopedStore();

      const urls = await objects.signParts('files/acct_1/file_1', 'up-1', [1, 2, 3], 3600);

      expect(assumed()).toEqual([
        {
          Action: 'AssumeRole',
          Version: '2011-06-15',
          RoleArn: ROLE,
          RoleSessionName: 'sx-signed-urls',
          DurationSeconds: '3600',
          Policy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:PutObject', Resource: 'arn:aws:s3:::sx-data/files/acct_1/file_1' }] }),
        },
      ]);
      expect(urls.map(sessionOf)).toEqual([1, 2, 3].map(() => ({ key: 'ASIASESSION1', token: 'token-1' })));
      expect(urls.map((u) => new URL(u).pathname)).toEqual(['/files/acct_1/file_1', '/files/acct_1/file_1', '/files/acct_1/file_1']);
      expect(s3Requests).toEqual([]);
    });

    it("signs a file's download for that key alone, and a job's listing for that job's prefix alone, each in a session of its own", async () => {
      const { objects, assumed } = scopedStore();

      const [file] = await objects.signGets('files/acct_1/file_1', ['files/acct_1/file_1'], 900);
      const outputs = await objects.signGets('outputs/job_1/', ['outputs/job_1/model.bin', 'outputs/job_1/logs/train.txt'], 3600);

      const policies = assumed().map((a) => [a.DurationSeconds, JSON.parse(a.Policy!).Statement]);
      expect(policies).toEqual([
        ['900', [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::sx-data/files/acct_1/file_1' }]],
        ['3600', [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::sx-data/outputs/job_1/*' }]],
      ]);
      expect(sessionOf(file!)).toEqual({ key: 'ASIASESSION1', token: 'token-1' });
      expect(outputs.map(sessionOf)).toEqual([{ key: 'ASIASESSION2', token: 'token-2' }, { key: 'ASIASESSION2', token: 'token-2' }]);
    });

    it('refuses to sign a key outside the scope, and asks STS nothing for nothing to sign', async () => {
      const { objects, assumed } = scopedStore();
      await expect(objects.signGets('outputs/job_1/', ['outputs/job_10/model.bin'], 60)).rejects.toThrow(/outside the signing scope/);
      await expect(objects.signGets('files/acct_1/file_1', ['files/acct_1/file_12'], 60)).rejects.toThrow(/outside the signing scope/);
      expect(await objects.signGets('outputs/job_1/', [], 60)).toEqual([]);
      expect(await objects.signParts('files/acct_1/file_1', 'up-1', [], 60)).toEqual([]);
      expect(assumed()).toEqual([]);
    });

    it("keeps a short URL's session at STS's 15-minute minimum and names the partition's ARNs in China", async () => {
      const sts = recordingHandler(() => ({
        contentType: 'text/xml',
        body: '<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>A</AccessKeyId><SecretAccessKey>S</SecretAccessKey><SessionToken>T</SessionToken><Expiration>2026-12-05T15:00:00Z</Expiration></Credentials></AssumeRoleResult></AssumeRoleResponse>',
      }));
      const credentials = stsScopedCredentials(new STSClient({ region: 'cn-north-1', credentials: testCredentials, requestHandler: sts.handler }), {
        roleArn: 'arn:aws-cn:iam::123456789012:role/signer',
        bucket: 'sx-data',
      });
      await credentials({ action: 's3:GetObject', scope: 'checkpoints/job_1/' }, 60);
      const sent = Object.fromEntries(new URLSearchParams(sts.requests[0]!.body));
      expect([sent.DurationSeconds, JSON.parse(sent.Policy!).Statement[0].Resource]).toEqual(['900', 'arn:aws-cn:s3:::sx-data/checkpoints/job_1/*']);
    });
  });
});

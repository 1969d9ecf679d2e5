import { BatchClient, SubmitJobCommand } from '@aws-sdk/client-batch';
import { S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { submitJobInput } from '../../../../functions/adapters/batch-compute';
import type { ComputeJobSpec } from '../../../../functions/adapters/compute';
import { S3_CLIENT_OPTIONS, S3ObjectStore } from '../../../../functions/adapters/s3-object-store';
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

    const part = new URL(await objects.signPart('files/a/f', 'up-1', 3, 3600));
    const get = new URL(await objects.signGet('outputs/job_1/model.bin', 900));

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
});

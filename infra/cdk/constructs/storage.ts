import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

/** The kinds of access to the data bucket a function can be given (infra/access.ts, `objects`). */
export type ObjectAccess = 'upload-files' | 'read-files' | 'delete-files' | 'list-outputs' | 'sign-urls' | 'read-runs' | 'sweep-uploads';

export interface StorageProps {

  /** Deployment prefix, for the job log group's name. */
  readonly prefix: string;
  /** Days a checkpoint is kept after it was written (a finished job's checkpoints are of no use). @default 30 */
  readonly checkpointDays?: number;
  /** Days after which outputs move to Infrequent Access. @default 30 */
  readonly outputsToInfrequentAccessDays?: number;
  /** How long job logs (customers' `GET /v1/jobs/{id}/logs`) are kept. @default logs.RetentionDays.ONE_YEAR */
  readonly jobLogRetention?: logs.RetentionDays;
}

/**
 * What outlives a deployment of the stateless stack: the output/checkpoint bucket (encrypted,
 * TLS only, versioned, with lifecycle rules and server access logs), the job log group and the
 * admin key. All retained when the stack is deleted.
 */
export class Storage extends Construct {
  readonly bucket: s3.Bucket;
  readonly accessLogs: s3.Bucket;
  readonly jobLogs: logs.LogGroup;
  readonly adminKey: secretsmanager.Secret;
  /**
   * What a Batch node may do with job files (its `sx-job-sync`, infra/cdk/node/): read `files/*`, read
   * and write `checkpoints/*` and `outputs/*` of the bucket, list only those prefixes, and write its
   * reports of when each job's command ran under `runs/*`. Defined here, beside
   * the bucket, and attached to the node role by the stateless stack.
   */
  readonly nodeJobFilesPolicy: iam.ManagedPolicy;
  /**
   * What the functions may do with the bucket, one policy per kind of `objects` access in
   * infra/access.ts, each on one prefix. A presigned URL carries the rights of the role that signed
   * it, and is signed for one key (and one part): these bound what any URL a function signs can do.
   */
  readonly objectPolicies: Record<ObjectAccess, iam.ManagedPolicy>;
  /**
   * The role whose sessions sign customers' URLs (functions/adapters/sts-scoped-credentials.ts). A
   * presigned URL carries its signer's rights, and its access key id and session token travel in it:
   * each session gets a session policy allowing one action on one key (an upload's parts, a file's
   * download) or one job's prefix (its outputs or checkpoints), so no URL can reach anything else.
   */
  readonly urlSigner: iam.Role;

  constructor(scope: Construct, id: string, props: StorageProps) {
    super(scope, id);
    this.accessLogs = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(365) }],
    });

    this.bucket = new s3.Bucket(this, 'Outputs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: 'outputs/',
      removalPolicy: RemovalPolicy.RETAIN,
      // No CORS rule here: the stateless stack sets one for the web console's origin, which only it
      // knows (a CloudFront domain), so that only the console's pages may use signed URLs from a browser.
      lifecycleRules: [
        // An upload has 24 h (Policy.uploadExpirySeconds); the expire-uploads sweep fails the file and
        // aborts it then. This rule is the backstop that frees the parts of any upload the sweep missed.
        { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
        { id: 'expire-old-versions', noncurrentVersionExpiration: Duration.days(7) },
        { id: 'expire-checkpoints', prefix: 'checkpoints/', expiration: Duration.days(props.checkpointDays ?? 30) },
        // The nodes' reports of when a job's command ran: read when Batch reports the attempt ended.
        { id: 'expire-run-reports', prefix: 'runs/', expiration: Duration.days(props.checkpointDays ?? 30) },
        {
          id: 'outputs-to-infrequent-access',
          prefix: 'outputs/',
          transitions: [
            { storageClass: s3.StorageClass.INFREQUENT_ACCESS, transitionAfter: Duration.days(props.outputsToInfrequentAccessDays ?? 30) },
          ],
        },
      ],
    });

    this.nodeJobFilesPolicy = new iam.ManagedPolicy(this, 'NodeJobFiles', {
      description: 'Batch nodes: fetch job inputs, restore and save job checkpoints and outputs (sx-job-sync)',
      statements: [
        // Inputs: customers' files (read only) and earlier jobs' outputs (read with the statement below).
        new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [this.bucket.arnForObjects('files/*')] }),
        new iam.PolicyStatement({
          actions: ['s3:GetObject', 's3:PutObject'],
          resources: [this.bucket.arnForObjects('checkpoints/*'), this.bucket.arnForObjects('outputs/*')],
        }),
        // When each job's command ran (sx-job-sync's reports, what is billed): written, never read here.
        new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: [this.bucket.arnForObjects('runs/*')] }),
        new iam.PolicyStatement({
          actions: ['s3:ListBucket'],
          resources: [this.bucket.bucketArn],
          conditions: { StringLike: { 's3:prefix': ['checkpoints/*', 'outputs/*'] } },
        }),
      ],
    });
    const bucketId = Stack.of(this).getLogicalId(this.bucket.node.defaultChild as s3.CfnBucket);
    const acknowledgePrefixes = (policy: Construct, prefixes: string[], reason: string) => {
      for (const prefix of prefixes) {
        Validations.of(policy).acknowledge({ id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/${prefix}/*]`, reason: reason.replaceAll('PREFIX', prefix) });
      }
    };
    acknowledgePrefixes(
      this.nodeJobFilesPolicy,
      ['checkpoints', 'outputs'],
      'Job PREFIX are keyed by job id, assigned at run time: Batch nodes read and write the PREFIX/ prefix of the job bucket, nothing else of it.',
    );
    acknowledgePrefixes(this.nodeJobFilesPolicy, ['files'], "Job inputs are customers' files, keyed by account and file id: Batch nodes only read the files/ prefix.");
    acknowledgePrefixes(this.nodeJobFilesPolicy, ['runs'], 'Run reports are keyed by job id and attempt, assigned at run time: Batch nodes only write the runs/ prefix.');

    const files = this.bucket.arnForObjects('files/*');
    this.urlSigner = new iam.Role(this, 'UrlSigner', {
      description: 'Signs the URLs customers upload and download with; each session is narrowed by a session policy to the one key or job prefix it signs for',
      // Only principals of this account whose own policy allows sts:AssumeRole on it (the sign-urls policy).
      assumedBy: new iam.AccountRootPrincipal(),
      maxSessionDuration: Duration.hours(1),
      inlinePolicies: {
        signing: new iam.PolicyDocument({
          statements: [
            // UploadPart is s3:PutObject.
            new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: [files] }),
            new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [files, this.bucket.arnForObjects('outputs/*'), this.bucket.arnForObjects('checkpoints/*')] }),
          ],
        }),
      },
    });
    acknowledgePrefixes(
      this.urlSigner,
      ['files', 'outputs', 'checkpoints'],
      'The bound of every session of the URL signer; each session is narrowed by its session policy to the one key (or one job prefix) it signs for.',
    );
    const onPrefixes = (prefixes: string[]) =>
      new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [this.bucket.bucketArn], conditions: { StringLike: { 's3:prefix': prefixes } } });
    const objectPolicy = (id: string, description: string, statements: iam.PolicyStatement[], prefixes: string[]) => {
      const policy = new iam.ManagedPolicy(this, id, { description, statements });
      acknowledgePrefixes(policy, prefixes, 'Objects under PREFIX/ are keyed by ids assigned at run time; the function signs URLs for one key at a time and may touch nothing outside PREFIX/.');
      return policy;
    };
    this.objectPolicies = {
      // CreateMultipartUpload, UploadPart and CompleteMultipartUpload are all s3:PutObject.
      'upload-files': objectPolicy(
        'FilesUpload',
        'Functions: start, sign parts of, list, complete and abort multipart uploads of files/',
        [new iam.PolicyStatement({ actions: ['s3:PutObject', 's3:ListMultipartUploadParts', 's3:AbortMultipartUpload'], resources: [files] })],
        ['files'],
      ),
      // ListBucket on the prefix, so a missing object is 404 to HeadObject rather than 403.
      'read-files': objectPolicy(
        'FilesRead',
        'Functions: read (and sign downloads of) files/',
        [new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [files] }), onPrefixes(['files/*'])],
        ['files'],
      ),
      'delete-files': objectPolicy('FilesDelete', 'Functions: delete objects of files/', [new iam.PolicyStatement({ actions: ['s3:DeleteObject'], resources: [files] })], ['files']),
      // Listing only: the downloads are signed by the URL signer. (The id is older than the signer; kept,
      // so the export the functions' stack imports stays the same.)
      'list-outputs': objectPolicy('OutputsRead', "Functions: list jobs' outputs/ and checkpoints/", [onPrefixes(['outputs/*', 'checkpoints/*'])], []),
      'sign-urls': new iam.ManagedPolicy(this, 'UrlsSign', {
        description: 'Functions: sign URLs of files, outputs and checkpoints, each in a session of the URL signer narrowed to what it signs',
        statements: [new iam.PolicyStatement({ actions: ['sts:AssumeRole'], resources: [this.urlSigner.roleArn] })],
      }),
      // What the Batch event adapter bills: the nodes' reports of when each job's command ran.
      'read-runs': objectPolicy(
        'RunsRead',
        "Functions: read the nodes' reports of when jobs' commands ran (runs/)",
        [new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [this.bucket.arnForObjects('runs/*')] }), onPrefixes(['runs/*'])],
        ['runs'],
      ),
      'sweep-uploads': objectPolicy(
        'UploadsSweep',
        'The upload sweep: list the open multipart uploads of files/ and abort them',
        [
          new iam.PolicyStatement({ actions: ['s3:AbortMultipartUpload'], resources: [files] }),
          // ListBucketMultipartUploads has no s3:prefix condition key (only ListBucket does): a condition
          // on it never matches and would deny the sweep. Listing open uploads shows keys, not data.
          new iam.PolicyStatement({ actions: ['s3:ListBucketMultipartUploads'], resources: [this.bucket.bucketArn] }),
        ],
        ['files'],
      ),
    };

    this.jobLogs = new logs.LogGroup(this, 'JobLogs', {
      logGroupName: `/${props.prefix}/batch/jobs`,
      retention: props.jobLogRetention ?? logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.adminKey = new secretsmanager.Secret(this, 'AdminKey', {
      description: 'Admin API key (Authorization: Bearer <key> on /v1/admin/*)',
      generateSecretString: { passwordLength: 48, excludePunctuation: true },
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.adminKey).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'The admin key is a bearer token handed to operators, not a credential a rotation Lambda can roll on its own; it is rotated by an operator (put-secret-value), and handlers read it on use, so a new value takes effect without a deploy.',
    });
  }
}

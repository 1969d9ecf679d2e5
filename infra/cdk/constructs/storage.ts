import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

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
   * What a Batch node may do with job files (its `sx-job-sync`, infra/cdk/node/): read and write
   * `checkpoints/*` and `outputs/*` of the bucket, list only those prefixes. Defined here, beside
   * the bucket, and attached to the node role by the stateless stack.
   */
  readonly nodeJobFilesPolicy: iam.ManagedPolicy;

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
      // The web console uploads parts and downloads outputs by signed URLs from its own origin: the
      // signature is the authorization, CORS only lets the browser send it and read the part's ETag.
      cors: [
        {
          allowedMethods: [s3.HttpMethods.PUT, s3.HttpMethods.GET, s3.HttpMethods.HEAD],
          allowedOrigins: ['*'],
          allowedHeaders: ['*'],
          exposedHeaders: ['ETag'],
          maxAge: 3600,
        },
      ],
      lifecycleRules: [
        { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(7) },
        { id: 'expire-old-versions', noncurrentVersionExpiration: Duration.days(7) },
        { id: 'expire-checkpoints', prefix: 'checkpoints/', expiration: Duration.days(props.checkpointDays ?? 30) },
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
      description: 'Batch nodes: restore and save job checkpoints and outputs (sx-job-sync)',
      statements: [
        new iam.PolicyStatement({
          actions: ['s3:GetObject', 's3:PutObject'],
          resources: [this.bucket.arnForObjects('checkpoints/*'), this.bucket.arnForObjects('outputs/*')],
        }),
        new iam.PolicyStatement({
          actions: ['s3:ListBucket'],
          resources: [this.bucket.bucketArn],
          conditions: { StringLike: { 's3:prefix': ['checkpoints/*', 'outputs/*'] } },
        }),
      ],
    });
    const bucketId = Stack.of(this).getLogicalId(this.bucket.node.defaultChild as s3.CfnBucket);
    for (const prefix of ['checkpoints', 'outputs']) {
      Validations.of(this.nodeJobFilesPolicy).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/${prefix}/*]`,
        reason: `Job ${prefix} are keyed by job id, assigned at run time: Batch nodes read and write the ${prefix}/ prefix of the job bucket, nothing else of it.`,
      });
    }

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

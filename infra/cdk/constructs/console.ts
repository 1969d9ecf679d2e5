import { Duration, Fn, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import { consoleCsp, consoleSecurityHeaders } from '../../console-headers';
import { partitionOf } from '../regions';

export interface ConsoleProps {
  /** The built console (console/build.ts): `index.html` and `assets/`. */
  readonly assetsDir: string;
  /** The HTTP API, served under `/v1/*` on the console's own origin. */
  readonly httpApi: apigw.IHttpApi;
  /** Where the distribution and the assets bucket write their access logs. */
  readonly accessLogs: s3.IBucket;
  /**
   * Origins the console's pages may call besides their own (the CSP's `connect-src`): the data
   * bucket, whose signed URLs take file uploads straight from the browser.
   * @default none
   */
  readonly connectSources?: readonly string[];
  /** An AWS WAF web ACL (global scope) in front of the distribution. @default none */
  readonly webAclArn?: string;
}

/**
 * The web console in AWS: its built files in a private S3 bucket, and one CloudFront distribution
 * serving them at `/` and the HTTP API at `/v1/*`, so the console and the API share one origin as in
 * the local stack. Every page and asset carries the console's Content-Security-Policy and security
 * headers (infra/console-headers.ts, the local stack's too). The API is never cached; the hashed
 * assets are, `index.html` is revalidated each load.
 */
export class Console extends Construct {
  readonly bucket: s3.Bucket;
  readonly distribution: cloudfront.Distribution;
  /** `https://<distribution domain>`: the console and, under `/v1/`, the API. */
  readonly url: string;

  constructor(scope: Construct, id: string, props: ConsoleProps) {
    super(scope, id);
    this.bucket = new s3.Bucket(this, 'Assets', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      serverAccessLogsBucket: props.accessLogs,
      serverAccessLogsPrefix: 'console-assets/',
      // Built from the repository on every deploy: nothing here is data.
      removalPolicy: RemovalPolicy.DESTROY,
      autoDeleteObjects: true,
    });

    const headers = new cloudfront.ResponseHeadersPolicy(this, 'Headers', {
      comment: 'The console: strict CSP and security headers',
      securityHeadersBehavior: {
        contentSecurityPolicy: { contentSecurityPolicy: consoleCsp(props.connectSources), override: true },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: cloudfront.HeadersFrameOption.DENY, override: true },
        referrerPolicy: { referrerPolicy: cloudfront.HeadersReferrerPolicy.NO_REFERRER, override: true },
        strictTransportSecurity: { accessControlMaxAge: Duration.days(365), includeSubdomains: true, override: true },
      },
      customHeadersBehavior: {
        customHeaders: [{ header: 'Cross-Origin-Opener-Policy', value: consoleSecurityHeaders['cross-origin-opener-policy'], override: true }],
      },
    });

    // `https://<id>.execute-api.<region>.<suffix>/` → its host, the API's origin domain.
    const apiDomain = Fn.select(2, Fn.split('/', props.httpApi.apiEndpoint));
    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: 'suanxiang-cloud console and API',
      defaultRootObject: 'index.html',
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      priceClass: cloudfront.PriceClass.PRICE_CLASS_ALL,
      enableLogging: true,
      logBucket: props.accessLogs,
      logFilePrefix: 'console-cdn/',
      ...(props.webAclArn ? { webAclId: props.webAclArn } : {}),
      defaultBehavior: {
        origin: origins.S3BucketOrigin.withOriginAccessControl(this.bucket),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
        responseHeadersPolicy: headers,
        compress: true,
      },
      additionalBehaviors: {
        '/v1/*': {
          origin: new origins.HttpOrigin(apiDomain, { protocolPolicy: cloudfront.OriginProtocolPolicy.HTTPS_ONLY }),
          viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
          allowedMethods: cloudfront.AllowedMethods.ALLOW_ALL,
          // Every answer is per caller: never cached; every header but Host (API Gateway routes by it) reaches the API.
          cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
          originRequestPolicy: cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
          compress: true,
        },
      },
    });
    this.url = `https://${this.distribution.distributionDomainName}`;

    new s3deploy.BucketDeployment(this, 'Deploy', {
      sources: [s3deploy.Source.asset(props.assetsDir)],
      destinationBucket: this.bucket,
      // Old hashed assets stay for pages still open on them; index.html is replaced and revalidated.
      prune: false,
      distribution: this.distribution,
      distributionPaths: ['/index.html'],
      memoryLimit: 256,
    });
    this.acknowledgeFindings(props);
  }

  private acknowledgeFindings(props: ConsoleProps): void {
    if (!props.webAclArn) {
      Validations.of(this.distribution).acknowledge({
        id: 'AwsSolutions-CFR2',
        reason: 'No WAF web ACL is configured by default (pass webAclArn); the API behind /v1/* has its own per-key request limits and throttling.',
      });
    }
    Validations.of(this.distribution).acknowledge({
      id: 'AwsSolutions-CFR1',
      reason: 'Customers may sign in from anywhere; the service restricts by account (API keys), not by country.',
    });
    Validations.of(this.distribution).acknowledge({
      id: 'AwsSolutions-CFR4',
      reason: 'The default *.cloudfront.net certificate fixes the TLS policy (CloudFront allows no minimum version with it); a custom domain and certificate would allow TLSv1.2_2021.',
    });
    // BucketDeployment's handler (a CDK singleton at the stack's root) copies the build into the bucket at deploy time.
    for (const child of Stack.of(this).node.children) {
      if (!child.node.id.startsWith('Custom::CDKBucketDeployment')) continue;
      Validations.of(child).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason: 'The CDK BucketDeployment handler writes its own logs with the basic execution policy; it runs only during deployments.',
      });
      const stack = Stack.of(this);
      const bucketArn = `<${stack.getLogicalId(this.bucket.node.defaultChild as s3.CfnBucket)}.Arn>/*`;
      const assets = `arn:${partitionOf(stack.region)}:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-${stack.region}/*`;
      const granted = ['Action::s3:GetBucket*', 'Action::s3:GetObject*', 'Action::s3:List*', 'Action::s3:Abort*', 'Action::s3:DeleteObject*', 'Resource::*', `Resource::${bucketArn}`, `Resource::${assets}`];
      for (const finding of granted) {
        Validations.of(child).acknowledge({
          id: `AwsSolutions-IAM5[${finding}]`,
          reason: 'What aws-cdk-lib grants the BucketDeployment handler: read the build asset from the CDK assets bucket, write and prune the console bucket, and invalidate the distribution (CreateInvalidation takes no resource).',
        });
      }
      Validations.of(child).acknowledge({
        id: 'AwsSolutions-L1',
        reason: 'The BucketDeployment handler runtime is chosen and updated by aws-cdk-lib itself, not by this project.',
      });
    }
  }
}

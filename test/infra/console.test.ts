import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { consoleCsp } from '../../infra/console-headers';
import { buildTestApp, resourcesOf, SYNTH_TIMEOUT_MS } from './cdk-app';

describe('the console in AWS', () => {
  const { stacks } = buildTestApp({ only: 'us-east-1' });
  const { stateless, stateful } = stacks['us-east-1']!;
  const template = Template.fromStack(stateless);

  it('serves the console from a private bucket through CloudFront with origin access control', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      BucketEncryption: Match.anyValue(),
      LoggingConfiguration: { LogFilePrefix: 'console-assets/' },
    });
    template.resourceCountIs('AWS::CloudFront::OriginAccessControl', 1);
    template.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({
        DefaultRootObject: 'index.html',
        Logging: Match.objectLike({ Prefix: 'console-cdn/' }),
        DefaultCacheBehavior: Match.objectLike({ ViewerProtocolPolicy: 'redirect-to-https', Compress: true }),
      }),
    });
    // The build's files are copied into the bucket at deploy time.
    expect(Object.keys(resourcesOf(template, 'Custom::CDKBucketDeployment'))).toHaveLength(1);
  });

  it('puts the HTTP API on the same origin at /v1/*, never cached, with every header but Host', () => {
    const [distribution] = Object.values(resourcesOf(template, 'AWS::CloudFront::Distribution'));
    const config = distribution!.Properties.DistributionConfig;
    const api = config.CacheBehaviors.find((b: { PathPattern: string }) => b.PathPattern === '/v1/*');
    expect(api).toMatchObject({
      ViewerProtocolPolicy: 'https-only',
      AllowedMethods: ['GET', 'HEAD', 'OPTIONS', 'PUT', 'PATCH', 'POST', 'DELETE'],
      // The managed CachingDisabled and AllViewerExceptHostHeader policies.
      CachePolicyId: '4135ea2d-6df8-44a3-9df3-4b5a84be39ad',
      OriginRequestPolicyId: 'b689b0a8-53d0-40ab-baf2-68738e2966ac',
    });
    const origin = config.Origins.find((o: { Id: string }) => o.Id === api.TargetOriginId);
    expect(origin.CustomOriginConfig).toMatchObject({ OriginProtocolPolicy: 'https-only' });
    expect(JSON.stringify(origin.DomainName)).toContain(stateless.getLogicalId(stateless.api.httpApi.node.defaultChild as never));
  });

  it('sends the console’s strict Content-Security-Policy, allowing uploads to the data bucket only', () => {
    const [policy] = Object.values(resourcesOf(template, 'AWS::CloudFront::ResponseHeadersPolicy'));
    const security = policy!.Properties.ResponseHeadersPolicyConfig.SecurityHeadersConfig;
    const csp = JSON.stringify(security.ContentSecurityPolicy.ContentSecurityPolicy);
    expect(csp).toContain(consoleCsp().split('; connect-src')[0]!);
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
    expect(csp).toContain(stateful.getLogicalId(stateful.storage.bucket.node.defaultChild as never));
    expect(security).toMatchObject({
      FrameOptions: { FrameOption: 'DENY', Override: true },
      ContentTypeOptions: { Override: true },
      ReferrerPolicy: { ReferrerPolicy: 'no-referrer', Override: true },
      StrictTransportSecurity: { AccessControlMaxAgeSec: 31536000, IncludeSubdomains: true, Override: true },
    });
  });

  it("lets the browser PUT signed parts to the data bucket and read their ETag, from the console's origin only", () => {
    // The console's CloudFront domain is known only here: the rule is set by a deploy-time PutBucketCors.
    expect(Template.fromStack(stateful).toJSON().Resources[stateful.getLogicalId(stateful.storage.bucket.node.defaultChild as any)].Properties.CorsConfiguration).toBeUndefined();
    const [cors] = Object.values(resourcesOf(template, 'Custom::AWS'));
    const call = JSON.stringify(cors!.Properties.Create).replaceAll('\\"', '"');
    const distribution = stateless.getLogicalId(stateless.console!.distribution.node.defaultChild as any);
    expect(call).toContain(`"AllowedOrigins":["https://",{"Fn::GetAtt":["${distribution}","DomainName"]},""]`);
    expect(call).toContain('"AllowedMethods":["PUT","GET","HEAD"]');
    expect(call).toContain('"ExposeHeaders":["ETag"]');
  });
}, SYNTH_TIMEOUT_MS);

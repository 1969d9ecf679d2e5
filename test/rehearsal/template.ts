/**
 * Reads a synthesized region (the stateful and stateless templates and the stacks of route groups,
 * infra/cdk/route-stack.ts) as CloudFormation would deploy it: intrinsics resolved to the names and ARNs
 * the resources would get, cross-stack imports and outputs followed.
 */
export const ACCOUNT = '123456789012';

type Template = { Resources: Record<string, { Type: string; Properties?: any }>; Outputs?: Record<string, { Value: unknown; Export?: { Name: unknown } }> };

export interface ResolvedFunction {
  /** `<stack>:<logical id>`: unique in the region (route stacks are stacks of their own). */
  id: string;
  stack: string;
  logicalId: string;
  name: string;
  arn: string;
  assetHash: string;
  handler: string;
  timeoutSeconds: number;
  memoryMb: number;
  environment: Record<string, string>;
  roleArn: string;
  policies: { name: string; policy: any }[];
}

/** A stack of the region by its short name: `stateful`, `stateless`, or a route group's (`operators`, `webhooks`). */
export type StackName = string;

export class Region {
  /**
   * @param templates every stack of the region by its short name (`stateful`, `stateless`, and the
   *   route groups'); each stack's deployed name ends in `-<short name>`.
   */
  constructor(
    readonly region: string,
    readonly templates: Record<StackName, Template>,
  ) {
    if (!templates.stateful || !templates.stateless) throw new Error('A region needs its stateful and stateless stacks');
  }

  get stateful(): Template {
    return this.templates.stateful!;
  }

  get stateless(): Template {
    return this.templates.stateless!;
  }

  /** The stacks that deploy functions: all but the stateful one. */
  get functionStacks(): StackName[] {
    return Object.keys(this.templates).filter((s) => s !== 'stateful');
  }

  private templateOf(stack: StackName): Template {
    const template = this.templates[stack];
    if (!template) throw new Error(`No stack ${stack} in the region`);
    return template;
  }

  /** The physical name CloudFormation would give a resource: its name property, else a generated one. */
  physicalName(stack: StackName, logicalId: string): string {
    const r = this.templateOf(stack).Resources[logicalId];
    if (!r) throw new Error(`No resource ${logicalId} in the ${stack} stack`);
    const p = r.Properties ?? {};
    const named = p.TableName ?? p.FunctionName ?? p.BucketName ?? p.QueueName ?? p.RoleName ?? p.Name ?? p.LogGroupName ?? p.JobQueueName ?? p.JobDefinitionName ?? p.ComputeEnvironmentName;
    if (named !== undefined) return String(this.resolve(stack, named));
    // CloudFormation ends a generated FIFO queue's name in `.fifo`, as SQS requires.
    if (r.Type === 'AWS::SQS::Queue' && p.FifoQueue === true) return `${`${stack}-${logicalId}`.slice(0, 75)}.fifo`;
    return `${stack}-${logicalId}`.slice(0, 64);
  }

  arnOf(stack: StackName, logicalId: string): string {
    const r = this.templateOf(stack).Resources[logicalId]!;
    const name = this.physicalName(stack, logicalId);
    const p = `arn:aws:`;
    switch (r.Type) {
      case 'AWS::DynamoDB::Table':
      case 'AWS::DynamoDB::GlobalTable':
        return `${p}dynamodb:${this.region}:${ACCOUNT}:table/${name}`;
      case 'AWS::Lambda::Function':
        return `${p}lambda:${this.region}:${ACCOUNT}:function:${name}`;
      case 'AWS::S3::Bucket':
        return `${p}s3:::${name}`;
      case 'AWS::IAM::Role':
        return `${p}iam::${ACCOUNT}:role/${name}`;
      case 'AWS::SQS::Queue':
        return `${p}sqs:${this.region}:${ACCOUNT}:${name}`;
      case 'AWS::Logs::LogGroup':
        return `${p}logs:${this.region}:${ACCOUNT}:log-group:${name}:*`;
      case 'AWS::SecretsManager::Secret':
        return `${p}secretsmanager:${this.region}:${ACCOUNT}:secret:${name}-AbCdEf`;
      case 'AWS::Batch::JobQueue':
        return `${p}batch:${this.region}:${ACCOUNT}:job-queue/${name}`;
      case 'AWS::Batch::JobDefinition':
        return `${p}batch:${this.region}:${ACCOUNT}:job-definition/${name}:1`;
      case 'AWS::Events::EventBus':
        return `${p}events:${this.region}:${ACCOUNT}:event-bus/${name}`;
      default:
        return `${p}${r.Type.split('::')[1]!.toLowerCase()}:${this.region}:${ACCOUNT}:${name}`;
    }
  }

  private refOf(stack: StackName, id: string): string {
    switch (id) {
      case 'AWS::Region':
        return this.region;
      case 'AWS::AccountId':
        return ACCOUNT;
      case 'AWS::Partition':
        return 'aws';
      case 'AWS::URLSuffix':
        return 'amazonaws.com';
      case 'AWS::StackName':
        return stack;
      case 'AWS::NoValue':
        return '';
    }
    const r = this.templateOf(stack).Resources[id];
    if (!r) throw new Error(`Ref to unknown ${id} in ${stack}`);
    // Ref gives the ARN for these types, the name for most others.
    if (['AWS::SQS::Queue'].includes(r.Type)) return `https://sqs.${this.region}.amazonaws.com/${ACCOUNT}/${this.physicalName(stack, id)}`;
    if (['AWS::SNS::Topic', 'AWS::Batch::JobQueue', 'AWS::Batch::JobDefinition', 'AWS::SecretsManager::Secret'].includes(r.Type)) return this.arnOf(stack, id);
    return this.physicalName(stack, id);
  }

  private getAtt(stack: StackName, id: string, attr: string): string {
    const r = this.templateOf(stack).Resources[id];
    if (!r) throw new Error(`GetAtt of unknown ${id} in ${stack}`);
    if (attr === 'Arn' || attr === 'JobQueueArn' || attr === 'JobDefinitionArn' || attr === 'ComputeEnvironmentArn') return this.arnOf(stack, id);
    if (attr === 'StreamArn') return `${this.arnOf(stack, id)}/stream/2026-01-01T00:00:00.000`;
    if (attr === 'QueueName' || attr === 'TableName') return this.physicalName(stack, id);
    if (attr === 'QueueUrl') return this.refOf(stack, id);
    if (attr === 'ApiEndpoint') return `https://api.execute-api.${this.region}.amazonaws.com`;
    if (attr === 'DomainName' || attr === 'RegionalDomainName') return `${this.physicalName(stack, id)}.s3.${this.region}.amazonaws.com`;
    return `${id}.${attr}`;
  }

  /** Resolves a template value in one stack's context. */
  resolve(stack: StackName, value: any): any {
    if (Array.isArray(value)) return value.map((v) => this.resolve(stack, v));
    if (value === null || typeof value !== 'object') return value;
    const keys = Object.keys(value);
    if (keys.length === 1) {
      const k = keys[0]!;
      const v = value[k];
      switch (k) {
        case 'Ref':
          return this.refOf(stack, v);
        case 'Fn::GetAtt': {
          const [id, attr] = Array.isArray(v) ? v : String(v).split('.');
          return this.getAtt(stack, id, attr);
        }
        case 'Fn::Join':
          return this.resolve(stack, v[1]).join(v[0]);
        case 'Fn::Select':
          return this.resolve(stack, v[1])[Number(this.resolve(stack, v[0]))];
        case 'Fn::Split':
          return String(this.resolve(stack, v[1])).split(v[0]);
        case 'Fn::Sub': {
          const [text, vars] = Array.isArray(v) ? v : [v, {}];
          return String(text).replace(/\$\{([^}]+)\}/g, (_: string, name: string) => {
            if (vars[name] !== undefined) return String(this.resolve(stack, vars[name]));
            const [id, attr] = name.split('.');
            return attr ? this.getAtt(stack, id!, attr) : this.refOf(stack, id!);
          });
        }
        case 'Fn::GetStackOutput': {
          // Cross-stack (and cross-region) references: the named stack's output (by the end of its name).
          const stackName = String(this.resolve(stack, v.StackName ?? ''));
          const other = Object.keys(this.templates).find((s) => stackName.endsWith(`-${s}`) && this.templates[s]!.Outputs?.[v.OutputName]) ?? Object.keys(this.templates).find((s) => this.templates[s]!.Outputs?.[v.OutputName]);
          const output = other ? this.templateOf(other).Outputs?.[v.OutputName] : undefined;
          if (!other || !output) throw new Error(`No output ${v.OutputName}`);
          return this.resolve(other, output.Value);
        }
        case 'Fn::ImportValue':
          return this.importValue(this.resolve(stack, v));
        case 'Fn::If':
          return this.resolve(stack, v[1]);
      }
    }
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.resolve(stack, v)]));
  }

  private importValue(name: string): any {
    for (const stack of Object.keys(this.templates)) {
      for (const output of Object.values(this.templateOf(stack).Outputs ?? {})) {
        if (output.Export && this.resolve(stack, output.Export.Name) === name) return this.resolve(stack, output.Value);
      }
    }
    throw new Error(`No export named ${name}`);
  }

  /** The functions of every stack that deploys them, with their code asset, environment and the identity policies of their roles. */
  functions(): ResolvedFunction[] {
    return this.functionStacks.flatMap((stack) => this.functionsOf(stack));
  }

  private functionsOf(stack: StackName): ResolvedFunction[] {
    const resources = this.templateOf(stack).Resources;
    const out: ResolvedFunction[] = [];
    for (const [id, r] of Object.entries(resources)) {
      if (r.Type !== 'AWS::Lambda::Function') continue;
      const p = r.Properties;
      const key = typeof p.Code?.S3Key === 'string' ? p.Code.S3Key : undefined;
      // Ours only: CDK's custom-resource providers are not part of the service.
      if (!key || !id.startsWith('Functions')) continue;
      const roleId = p.Role['Fn::GetAtt'][0];
      out.push({
        id: `${stack}:${id}`,
        stack,
        logicalId: id,
        name: this.physicalName(stack, id),
        arn: this.arnOf(stack, id),
        assetHash: key.replace(/\.zip$/, ''),
        handler: p.Handler,
        timeoutSeconds: p.Timeout ?? 3,
        memoryMb: p.MemorySize ?? 128,
        environment: this.resolve(stack, p.Environment?.Variables ?? {}),
        roleArn: this.arnOf(stack, roleId),
        policies: this.policiesOfRole(stack, roleId),
      });
    }
    return out;
  }

  /** A role's identity policies: inline, attached (`AWS::IAM::Policy`) and the project's managed ones. */
  private policiesOfRole(stack: StackName, roleId: string): { name: string; policy: any }[] {
    const resources = this.templateOf(stack).Resources;
    const attached = Object.entries(resources)
      .filter(([, r]) => r.Type === 'AWS::IAM::Policy' && (r.Properties.Roles ?? []).some((role: { Ref?: string }) => role.Ref === roleId))
      .map(([id, r]) => ({ name: id, policy: this.resolve(stack, r.Properties.PolicyDocument) }));
    const role = resources[roleId]!.Properties;
    return [
      ...attached,
      ...(role.Policies ?? []).map((x: any) => ({ name: x.PolicyName, policy: this.resolve(stack, x.PolicyDocument) })),
      ...this.managedPolicies(stack, role.ManagedPolicyArns ?? []),
    ];
  }

  /** Every role of the region by its ARN, with its identity policies and longest session (what STS needs). */
  roles(): Map<string, { policies: { name: string; policy: any }[]; maxSessionSeconds: number }> {
    const out = new Map<string, { policies: { name: string; policy: any }[]; maxSessionSeconds: number }>();
    for (const stack of Object.keys(this.templates)) {
      for (const [id, r] of Object.entries(this.templateOf(stack).Resources)) {
        if (r.Type !== 'AWS::IAM::Role') continue;
        out.set(this.arnOf(stack, id), { policies: this.policiesOfRole(stack, id), maxSessionSeconds: r.Properties.MaxSessionDuration ?? 3600 });
      }
    }
    return out;
  }

  /** The project's customer-managed policies a role attaches (the stateful stack's, e.g. the data bucket's); AWS-managed ones are left out. */
  private managedPolicies(stack: StackName, arns: unknown[]): { name: string; policy: any }[] {
    const byArn = new Map(
      Object.entries(this.stateful.Resources)
        .filter(([, r]) => r.Type === 'AWS::IAM::ManagedPolicy')
        .map(([id, r]) => [this.refOf('stateful', id), { name: id, policy: this.resolve('stateful', r.Properties.PolicyDocument) }] as const),
    );
    return arns.map((arn) => byArn.get(String(this.resolve(stack, arn)))).filter((p): p is { name: string; policy: any } => p !== undefined);
  }

  /** Lambda's event source mappings: which function reads which stream or queue, how much at once, and through which filters. */
  eventSourceMappings(): Array<{ functionId: string; kind: 'dynamodb' | 'sqs'; source: string; batchSize: number; filters: string[] }> {
    return Object.values(this.stateless.Resources)
      .filter((r) => r.Type === 'AWS::Lambda::EventSourceMapping')
      .map((r) => {
        const p = r.Properties;
        const source = String(this.resolve('stateless', p.EventSourceArn));
        return {
          functionId: `stateless:${String(p.FunctionName.Ref)}`,
          kind: source.includes(':sqs:') ? ('sqs' as const) : ('dynamodb' as const),
          source,
          batchSize: p.BatchSize ?? (source.includes(':sqs:') ? 10 : 100),
          filters: (p.FilterCriteria?.Filters ?? []).map((f: { Pattern: string }) => f.Pattern),
        };
      });
  }

  /** EventBridge rules: the pattern an event must match and the functions it is delivered to. */
  eventRules(): Array<{ id: string; pattern: Record<string, unknown>; functionIds: string[] }> {
    return Object.entries(this.stateless.Resources)
      .filter(([, r]) => r.Type === 'AWS::Events::Rule' && r.Properties.State !== 'DISABLED')
      .map(([id, r]) => ({
        id,
        pattern: this.resolve('stateless', r.Properties.EventPattern),
        functionIds: (r.Properties.Targets ?? []).map((t: { Arn: { 'Fn::GetAtt': [string, string] } }) => `stateless:${t.Arn['Fn::GetAtt'][0]}`),
      }));
  }

  /** EventBridge Scheduler schedules: the function each one invokes and how often. */
  schedules(): Array<{ id: string; expression: string; functionId: string }> {
    return Object.entries(this.stateless.Resources)
      .filter(([, r]) => r.Type === 'AWS::Scheduler::Schedule')
      .map(([id, r]) => ({ id, expression: r.Properties.ScheduleExpression, functionId: `stateless:${r.Properties.Target.Arn['Fn::GetAtt'][0]}` }));
  }

  /** The HTTP API's Lambda authorizer: its function's logical id and how API Gateway calls it. */
  authorizer(): { functionId: string; payloadFormatVersion: string; simpleResponses: boolean; resultTtl: number } {
    const found = Object.values(this.stateless.Resources).filter((r) => r.Type === 'AWS::ApiGatewayV2::Authorizer');
    if (found.length !== 1) throw new Error(`Expected one HTTP API authorizer, found ${found.length}`);
    const p = found[0]!.Properties;
    const getAtt = (value: unknown): string | undefined => {
      if (Array.isArray(value)) return value.map(getAtt).find(Boolean);
      if (value === null || typeof value !== 'object') return undefined;
      const v = value as Record<string, unknown>;
      if (Array.isArray(v['Fn::GetAtt'])) return String((v['Fn::GetAtt'] as unknown[])[0]);
      return Object.values(v).map(getAtt).find(Boolean);
    };
    const functionId = getAtt(p.AuthorizerUri);
    if (!functionId) throw new Error('The authorizer names no function');
    return {
      functionId: `stateless:${functionId}`,
      payloadFormatVersion: p.AuthorizerPayloadFormatVersion,
      simpleResponses: p.EnableSimpleResponses === true,
      resultTtl: p.AuthorizerResultTtlInSeconds ?? 300,
    };
  }

  /** HTTP API routes of every stack: route key → function id, and whether the route uses the authorizer. */
  routes(): { routeKey: string; functionId: string; authorized: boolean }[] {
    const out = [];
    for (const stack of this.functionStacks) {
      const res = this.templateOf(stack).Resources;
      for (const r of Object.values(res)) {
        if (r.Type !== 'AWS::ApiGatewayV2::Route') continue;
        const integration = res[String(r.Properties.Target['Fn::Join'][1][1].Ref)];
        const functionId = integration!.Properties.IntegrationUri['Fn::GetAtt'][0];
        out.push({ routeKey: r.Properties.RouteKey, functionId: `${stack}:${functionId}`, authorized: r.Properties.AuthorizationType === 'CUSTOM' });
      }
    }
    return out;
  }
}

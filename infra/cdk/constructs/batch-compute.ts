import { Annotations, Fn, Stack, Token, Validations } from 'aws-cdk-lib';
import * as batch from 'aws-cdk-lib/aws-batch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import {
  EFA_INTERFACES_PER_NODE,
  INSTANCE_TYPE,
  jobDefinitionTemplates,
  NODE_SX_DIR,
  VCPUS_PER_NODE,
  type JobDefinitionInput,
} from '../../../functions/adapters/batch-job-definitions';

/** How often a running job's checkpoint directory is saved to S3, besides when the job ends. */
export const CHECKPOINT_SYNC_SECONDS = 300;
/**
 * The scripts the nodes run (see `infra/cdk/node/`): the job entrypoint and the host-side S3 sync
 * (with the Spot interruption watch) on every node, the EFA setup first on the multi-node ones.
 */
/** How cdk-nag prints an ARN part in a finding id: a token as `<AWS::Pseudo>`. */
const nagPart = (value: string, pseudo: string) => (Token.isUnresolved(value) ? `<AWS::${pseudo}>` : value);

export type NodeScript = 'sx-entry.sh' | 'sx-job-sync.sh' | 'sx-efa-setup.sh' | 'sx-s5cmd-setup.sh';
export const nodeScript = (name: NodeScript) => readFileSync(new URL(`../node/${name}`, import.meta.url), 'utf8');

/**
 * User-data lines that write a node script to `path` (mode 0755), gzipped and base64-encoded: EC2
 * takes at most 16 KB of user data, which the scripts as text would pass. The same bytes every synth
 * (gzip with no time in its header), so an unchanged script changes no launch template.
 */
export function installNodeScript(name: NodeScript, path: string): string[] {
  const gzipped = gzipSync(nodeScript(name), { level: 9 });
  gzipped[9] = 3; // the header's OS byte: Unix, whatever machine synthesizes
  const packed = gzipped.toString('base64');
  return [`base64 -d <<'SX_EOF' | gunzip > ${path}`, ...(packed.match(/.{1,76}/g) ?? []), 'SX_EOF', `chmod 0755 ${path}`];
}

/**
 * A `RegisterJobDefinition` input as CloudFormation's job definition properties: the same fields
 * under the same names (CDK's L1 properties are the API's), so the template is registered exactly.
 */
const cfnJobDefinition = (input: JobDefinitionInput) => input as Omit<batch.CfnJobDefinitionProps, 'jobDefinitionName'>;

export interface BatchComputeProps {
  /** Deployment prefix of the queue and job definition names (`<prefix>-on-demand`, `<prefix>-single-node`). */
  readonly prefix: string;
  /** Upper bound of the on-demand compute environment, in nodes. */
  readonly maxOnDemandNodes: number;
  /** Upper bound of the Spot compute environment, in nodes; 0 or `spot: false` creates none. */
  readonly maxSpotNodes: number;
  /** Whether single-node jobs may run on Spot (a Spot queue that falls back to on-demand). */
  readonly spot: boolean;
  /** Where job containers log (read back by `GET /v1/jobs/{id}/logs`). */
  readonly jobLogs: logs.ILogGroup;
  /** Lets the nodes restore and save `checkpoints/<job>/` and save `outputs/<job>/` (the stateful stack's). */
  readonly jobFilesPolicy: iam.IManagedPolicy;
  /**
   * The stop grace in seconds (`SX_STOP_GRACE_SECONDS`): SIGTERM, then SIGKILL this long after, which
   * on a Batch node is the ECS agent's `ECS_CONTAINER_STOP_TIMEOUT`.
   */
  readonly stopGraceSeconds: number;
  /**
   * The Availability Zones (names, as the deploying account sees them) that offer p4d.24xlarge, as
   * `npm run preflight` lists them: the VPC spans these, and the on-demand compute environment (one
   * AZ, for its cluster placement group) takes the first. Without them the VPC takes the region's
   * first `maxAzs` zones, which may not offer p4d (a synth warning says so).
   */
  readonly p4dZones?: readonly string[];
  /**
   * EFA on the multi-node nodes (interfaces, devices in the job definition, the setup that takes a
   * node out without them). Batch in the China regions does not support EFA: there multi-node jobs
   * run NCCL over TCP. @default true
   */
  readonly efa?: boolean;
  /**
   * Install the pinned s5cmd on the nodes (downloaded from its GitHub release at boot), which fetches
   * job inputs faster than the AWS CLI. Off where GitHub is not reliably reachable (the China
   * regions): there the AWS CLI moves the bytes. @default true
   */
  readonly s5cmd?: boolean;
  /** How many AZs the VPC spans when `p4dZones` is not given. @default 2 */
  readonly maxAzs?: number;
  /** @default 1 */
  readonly natGateways?: number;
}

/**
 * Where jobs run: a VPC (private subnets behind NAT, flow logs, an S3 gateway endpoint), managed EC2
 * compute environments of p4d.24xlarge (on-demand in one cluster placement group with EFA, for
 * multi-node training; optionally Spot across AZs for single-node jobs), their job queues, and the
 * single-node and multi-node parallel job definitions. Instances require IMDSv2 with a hop limit of
 * 1 so customer containers cannot take the instance role's credentials.
 */
export class BatchCompute extends Construct {
  readonly vpc: ec2.Vpc;
  readonly onDemandQueue: batch.CfnJobQueue;
  readonly spotQueue: batch.CfnJobQueue | undefined;
  readonly singleNode: batch.CfnJobDefinition;
  readonly multiNode: batch.CfnJobDefinition;
  /** Queue names, job definition names, as the Lambda environment wants them. */
  readonly names: { onDemandQueue: string; spotQueue: string; singleNode: string; multiNode: string };
  /** ARNs of the project's compute environments: the only ones the capacity sweep may read and resize. */
  readonly computeEnvironmentArns: string[] = [];

  constructor(scope: Construct, id: string, props: BatchComputeProps) {
    super(scope, id);
    const { prefix } = props;
    const efa = props.efa ?? true;
    const s5cmd = props.s5cmd ?? true;
    const zones = props.p4dZones && props.p4dZones.length > 0 ? [...props.p4dZones] : undefined;
    if (!zones) {
      Annotations.of(this).addWarningV2(
        'sx:p4d-zones-unknown',
        'No p4dZones in the region configuration: the VPC takes the first Availability Zones of the region, and the on-demand compute environment the first of them, which may not offer p4d.24xlarge. Run `npm run preflight -- --region <region>` and set p4dZones.',
      );
    }

    this.vpc = new ec2.Vpc(this, 'Vpc', {
      ...(zones ? { availabilityZones: zones } : { maxAzs: props.maxAzs ?? 2 }),
      natGateways: props.natGateways ?? 1,
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        // Large private subnets: every multi-node job container gets its own ENI (awsvpc).
        { name: 'jobs', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 20 },
      ],
      flowLogs: { all: { trafficType: ec2.FlowLogTrafficType.REJECT } },
      gatewayEndpoints: { s3: { service: ec2.GatewayVpcEndpointAwsService.S3 } },
    });

    // EFA needs all traffic between the instances of a job, both ways; nothing comes in from outside.
    const securityGroup = new ec2.SecurityGroup(this, 'Nodes', {
      vpc: this.vpc,
      description: 'Batch p4d nodes: all traffic within the group (EFA, NCCL, multi-node jobs), all egress',
      allowAllOutbound: true,
    });
    securityGroup.addIngressRule(securityGroup, ec2.Port.allTraffic(), 'EFA and NCCL between nodes of a job');

    const instanceRole = new iam.Role(this, 'InstanceRole', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AmazonEC2ContainerServiceforEC2Role')],
    });
    Validations.of(instanceRole).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role]',
      reason:
        'The ECS container instance policy AWS maintains for Batch hosts (register with the ECS cluster Batch manages, pull images, write container logs); the cluster and log streams are created by Batch at run time and cannot be named here.',
    });
    // The host-side sync (infra/cdk/node/sx-job-sync.sh) restores and saves each job's directories
    // with the instance role; customer containers have no credentials and cannot reach this role.
    instanceRole.addManagedPolicy(props.jobFilesPolicy);
    // A job whose inputs cannot be fetched is failed by the node before its command starts (reason sx:infrastructure).
    const stack = Stack.of(this);
    instanceRole.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['batch:TerminateJob'], resources: [`arn:${stack.partition}:batch:${stack.region}:${stack.account}:job/*`] }),
    );
    Validations.of(instanceRole).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:${nagPart(stack.partition, 'Partition')}:batch:${nagPart(stack.region, 'Region')}:${nagPart(stack.account, 'AccountId')}:job/*]`,
      reason: 'Batch job ARNs carry ids Batch assigns at submission; the node fails a job it runs (its AWS_BATCH_JOB_ID) whose inputs it could not fetch.',
    });
    const instanceProfile = new iam.CfnInstanceProfile(this, 'InstanceProfile', { roles: [instanceRole.roleName] });

    const placementGroup = new ec2.CfnPlacementGroup(this, 'Cluster', { strategy: 'cluster' });
    const privateSubnets = this.vpc.selectSubnets({ subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }).subnetIds;
    // One AZ that offers p4d: a cluster placement group (and EFA) cannot span AZs.
    const onDemandSubnet = zones
      ? this.vpc.selectSubnets({ subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, availabilityZones: [zones[0]!] }).subnetIds[0]!
      : privateSubnets[0]!;

    const onDemandTemplate = this.launchTemplate('OnDemandTemplate', securityGroup, { efa, s5cmd, spot: false, stopGraceSeconds: props.stopGraceSeconds });
    const onDemand = new batch.CfnComputeEnvironment(this, 'OnDemand', {
      type: 'MANAGED',
      state: 'ENABLED',
      replaceComputeEnvironment: false,
      computeResources: {
        type: 'EC2',
        allocationStrategy: 'BEST_FIT_PROGRESSIVE',
        instanceTypes: [INSTANCE_TYPE],
        minvCpus: 0,
        maxvCpus: props.maxOnDemandNodes * VCPUS_PER_NODE,
        subnets: [onDemandSubnet],
        placementGroup: placementGroup.ref,
        // Multi-node job containers (awsvpc) get ENIs with these groups; the EFA interfaces take theirs from the template.
        securityGroupIds: [securityGroup.securityGroupId],
        instanceRole: instanceProfile.attrArn,
        launchTemplate: { launchTemplateId: onDemandTemplate.ref, version: onDemandTemplate.attrLatestVersionNumber },
        ec2Configuration: [{ imageType: 'ECS_AL2023_NVIDIA' }],
        updateToLatestImageVersion: true,
        tags: { 'sx:deployment': prefix, 'sx:capacity': 'on-demand' },
      },
    });

    this.onDemandQueue = new batch.CfnJobQueue(this, 'OnDemandQueue', {
      jobQueueName: `${prefix}-on-demand`,
      priority: 1,
      state: 'ENABLED',
      computeEnvironmentOrder: [{ order: 1, computeEnvironment: onDemand.attrComputeEnvironmentArn }],
    });
    this.computeEnvironmentArns.push(onDemand.attrComputeEnvironmentArn);

    if (props.spot && props.maxSpotNodes > 0) {
      const spotTemplate = this.launchTemplate('SpotTemplate', securityGroup, { efa: false, s5cmd, spot: true, stopGraceSeconds: props.stopGraceSeconds });
      const spot = new batch.CfnComputeEnvironment(this, 'Spot', {
        type: 'MANAGED',
        state: 'ENABLED',
        replaceComputeEnvironment: false,
        computeResources: {
          type: 'SPOT',
          allocationStrategy: 'SPOT_PRICE_CAPACITY_OPTIMIZED',
          instanceTypes: [INSTANCE_TYPE],
          minvCpus: 0,
          maxvCpus: props.maxSpotNodes * VCPUS_PER_NODE,
          subnets: privateSubnets,
          securityGroupIds: [securityGroup.securityGroupId],
          instanceRole: instanceProfile.attrArn,
          launchTemplate: { launchTemplateId: spotTemplate.ref, version: spotTemplate.attrLatestVersionNumber },
          ec2Configuration: [{ imageType: 'ECS_AL2023_NVIDIA' }],
          updateToLatestImageVersion: true,
          tags: { 'sx:deployment': prefix, 'sx:capacity': 'spot' },
        },
      });
      this.computeEnvironmentArns.push(spot.attrComputeEnvironmentArn);
      // Single-node jobs only (Batch refuses multi-node jobs on Spot); on-demand takes over when Spot has no capacity.
      this.spotQueue = new batch.CfnJobQueue(this, 'SpotQueue', {
        jobQueueName: `${prefix}-spot`,
        priority: 1,
        state: 'ENABLED',
        computeEnvironmentOrder: [
          { order: 1, computeEnvironment: spot.attrComputeEnvironmentArn },
          { order: 2, computeEnvironment: onDemand.attrComputeEnvironmentArn },
        ],
      });
    }

    // One description of a job, shared with the Batch adapter (which derives a revision per image from these).
    const templates = jobDefinitionTemplates({
      logGroup: props.jobLogs.logGroupName,
      region: Stack.of(this).region,
      image: 'public.ecr.aws/amazonlinux/amazonlinux:2023',
      efa,
    });
    this.singleNode = new batch.CfnJobDefinition(this, 'SingleNode', { jobDefinitionName: `${prefix}-single-node`, ...cfnJobDefinition(templates.singleNode) });
    this.multiNode = new batch.CfnJobDefinition(this, 'MultiNode', { jobDefinitionName: `${prefix}-multi-node`, ...cfnJobDefinition(templates.multiNode) });

    this.names = {
      onDemandQueue: `${prefix}-on-demand`,
      spotQueue: this.spotQueue ? `${prefix}-spot` : '',
      singleNode: `${prefix}-single-node`,
      multiNode: `${prefix}-multi-node`,
    };
  }

  /** ARNs of the project's job queues (for SubmitJob). */
  get queueArns(): string[] {
    return [this.onDemandQueue.attrJobQueueArn, ...(this.spotQueue ? [this.spotQueue.attrJobQueueArn] : [])];
  }

  /**
   * Launch template of the p4d nodes: IMDSv2 only with hop limit 1 (containers cannot reach the
   * instance role), an encrypted 200 GiB root volume for large images, the ECS agent's stop timeout
   * set to the stop grace (SIGKILL that long after SIGTERM), on Spot nodes draining and the sync
   * service's interruption watch (the two-minute notice becomes SIGTERM and the grace, and the
   * checkpoint is saved before the host goes), the job entrypoint, the sync service and the pinned
   * s5cmd it fetches inputs with (`infra/cdk/node/`), and, for the on-demand (multi-node) environment, the four EFA interfaces and
   * the EFA setup, which takes the node out rather than let it join without its EFA devices.
   */
  private launchTemplate(id: string, securityGroup: ec2.SecurityGroup, options: { efa: boolean; s5cmd: boolean; spot: boolean; stopGraceSeconds: number }): ec2.CfnLaunchTemplate {
    const { efa, s5cmd, spot, stopGraceSeconds } = options;
    const script = [
      '#!/bin/bash',
      'set -euxo pipefail',
      // Before anything else: a node whose EFA devices are missing shuts down instead of joining the cluster.
      ...(efa
        ? [
            `mkdir -p ${NODE_SX_DIR}`,
            ...installNodeScript('sx-efa-setup.sh', `${NODE_SX_DIR}/sx-efa-setup`),
            `SX_EFA_INTERFACES=${EFA_INTERFACES_PER_NODE} ${NODE_SX_DIR}/sx-efa-setup`,
          ]
        : []),
      // Multi-node job containers use awsvpc: keep them off the instance metadata service too.
      'echo ECS_AWSVPC_BLOCK_IMDS=true >> /etc/ecs/ecs.config',
      // SIGTERM, then SIGKILL after the grace the job was promised (API.md) and that is held for it.
      `echo ECS_CONTAINER_STOP_TIMEOUT=${stopGraceSeconds}s >> /etc/ecs/ecs.config`,
      ...(spot ? ['echo ECS_ENABLE_SPOT_INSTANCE_DRAINING=true >> /etc/ecs/ecs.config'] : []),
      `mkdir -p ${NODE_SX_DIR}/bin`,
      ...installNodeScript('sx-entry.sh', `${NODE_SX_DIR}/bin/sx-entry`),
      ...installNodeScript('sx-job-sync.sh', `${NODE_SX_DIR}/sx-job-sync`),
      'command -v aws || dnf install -y awscli-2',
      // s5cmd for job inputs, pinned and checked against its SHA-256; without it sx-job-sync uses the AWS CLI.
      ...(s5cmd ? [...installNodeScript('sx-s5cmd-setup.sh', `${NODE_SX_DIR}/sx-s5cmd-setup`), `${NODE_SX_DIR}/sx-s5cmd-setup`] : []),
      // Unpacking .zip inputs (tar is on the AMI).
      'command -v unzip || dnf install -y unzip',
      "cat > /etc/systemd/system/sx-job-sync.service <<'SX_EOF'",
      '[Unit]',
      'Description=suanxiang-cloud: restore and save job checkpoints and outputs (S3), and stop jobs on a Spot interruption notice',
      'After=docker.service',
      'Requires=docker.service',
      '[Service]',
      `Environment=AWS_REGION=${Stack.of(this).region} SX_SYNC_INTERVAL=${CHECKPOINT_SYNC_SECONDS} SX_STOP_GRACE_SECONDS=${stopGraceSeconds} SX_SPOT=${spot}`,
      `ExecStart=${NODE_SX_DIR}/sx-job-sync`,
      'Restart=always',
      'RestartSec=5',
      '[Install]',
      'WantedBy=multi-user.target',
      'SX_EOF',
      // --no-block: Docker starts after this script (cloud-init), the unit waits for it.
      'systemctl daemon-reload',
      'systemctl enable --now --no-block sx-job-sync.service',
    ].join('\n');
    // Batch requires launch template user data in MIME multi-part form.
    const userData = [
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="==SX=="',
      '',
      '--==SX==',
      'Content-Type: text/x-shellscript; charset="us-ascii"',
      '',
      script,
      '--==SX==--',
      '',
    ].join('\n');
    return new ec2.CfnLaunchTemplate(this, id, {
      launchTemplateData: {
        metadataOptions: { httpTokens: 'required', httpPutResponseHopLimit: 1, httpEndpoint: 'enabled' },
        // A node that shuts itself down (sx-efa-setup) is gone for good; Batch launches a replacement.
        instanceInitiatedShutdownBehavior: 'terminate',
        blockDeviceMappings: [{ deviceName: '/dev/xvda', ebs: { volumeSize: 200, volumeType: 'gp3', encrypted: true, deleteOnTermination: true } }],
        userData: Fn.base64(userData),
        ...(efa
          ? {
              networkInterfaces: Array.from({ length: EFA_INTERFACES_PER_NODE }, (_, i) => ({
                networkCardIndex: i,
                deviceIndex: i === 0 ? 0 : 1,
                interfaceType: 'efa',
                groups: [securityGroup.securityGroupId],
                deleteOnTermination: true,
              })),
            }
          : {}),
      },
    });
  }
}

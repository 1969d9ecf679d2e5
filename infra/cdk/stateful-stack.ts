import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { EventStore } from './constructs/event-store';
import { Storage } from './constructs/storage';

export interface StatefulStackProps extends StackProps {
  /** Deployment prefix of physical names. */
  readonly prefix: string;
}

/**
 * What must survive redeploys and teardown of the rest, per region: the event store and views
 * tables (PITR, deletion protection, retained), the output/checkpoint bucket, the job log group
 * and the admin key. Deployed first; the stateless stack reads these.
 */
export class StatefulStack extends Stack {
  readonly eventStore: EventStore;
  readonly storage: Storage;

  constructor(scope: Construct, id: string, props: StatefulStackProps) {
    super(scope, id, { terminationProtection: true, ...props });
    this.eventStore = new EventStore(this, 'EventStore', { prefix: props.prefix });
    this.storage = new Storage(this, 'Storage', { prefix: props.prefix });
    new CfnOutput(this, 'EventsTable', { value: this.eventStore.events.tableName });
    new CfnOutput(this, 'OutputBucket', { value: this.storage.bucket.bucketName });
    new CfnOutput(this, 'AdminKeySecret', {
      value: this.storage.adminKey.secretName,
      description: 'aws secretsmanager get-secret-value --secret-id <this> to read the admin key',
    });
  }
}

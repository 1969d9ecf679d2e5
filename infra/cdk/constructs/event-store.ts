import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { tableNames, tables, type TableDefinition, type TableNames } from '../../tables';

export interface EventStoreProps {
  /** Deployment prefix of the physical table names (`<prefix>-events`, `<prefix>-views`). */
  readonly prefix: string;
  /** @default RemovalPolicy.RETAIN: the event store is the system of record */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The event store and the read models, built from `infra/tables.ts` (the same definitions the local
 * stack creates), with point-in-time recovery, deletion protection and on-demand capacity.
 */
export class EventStore extends Construct {
  readonly events: dynamodb.TableV2;
  readonly views: dynamodb.TableV2;
  /** Points read from jobs' logs (not events): expiring after the retention period. */
  readonly metrics: dynamodb.TableV2;
  readonly names: TableNames;

  constructor(scope: Construct, id: string, props: EventStoreProps) {
    super(scope, id);
    this.names = tableNames(props.prefix);
    const table = (key: keyof TableNames, def: TableDefinition) =>
      new dynamodb.TableV2(this, def.logicalName, {
        tableName: this.names[key],
        partitionKey: { name: def.partitionKey.name, type: def.partitionKey.type as dynamodb.AttributeType },
        sortKey: { name: def.sortKey.name, type: def.sortKey.type as dynamodb.AttributeType },
        billing: dynamodb.Billing.onDemand(),
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        deletionProtection: true,
        encryption: dynamodb.TableEncryptionV2.awsManagedKey(),
        removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
        ...(def.stream ? { dynamoStream: def.stream as dynamodb.StreamViewType } : {}),
        ...(def.timeToLiveAttribute ? { timeToLiveAttribute: def.timeToLiveAttribute } : {}),
      });
    this.events = table('events', tables.events);
    this.views = table('views', tables.views);
    this.metrics = table('metrics', tables.metrics);
  }
}

import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { AppFunction } from './app-function';
import { deadLetterQueue } from './queues';

/** One rule: `infra/routes.ts`'s `eventRules` entries (the stack may narrow a pattern's `detail`). */
export interface EventRoute {
  readonly name: string;
  readonly pattern: Readonly<Record<string, readonly string[]>>;
  /** Values the event's `detail` fields must have (e.g. only our job queues). @default any */
  readonly detail?: Readonly<Record<string, readonly string[]>>;
  readonly handler: string;
}

export interface EventRoutingProps {
  /** Name of the project's own bus. */
  readonly busName: string;
  readonly rules: readonly EventRoute[];
  readonly functionFor: (handler: string) => AppFunction;
  /** Attempts per event before it goes to the rule's DLQ. @default 20 */
  readonly retryAttempts?: number;
  /** @default Duration.hours(24) */
  readonly maxEventAge?: Duration;
  /** How long the bus archive keeps our own events for replay. @default 90 days */
  readonly archiveRetention?: Duration;
}

/**
 * The custom event bus for the project's own events (with an archive to replay from) and the rules
 * of `infra/routes.ts`. A rule matching an AWS service's events (`source: aws.*`, e.g. Batch job
 * state changes) is put on the account's default bus, where AWS delivers them; the rest on ours.
 * Every target retries with backoff and ends in a DLQ.
 */
export class EventRouting extends Construct {
  readonly bus: events.EventBus;
  readonly rules: Record<string, { rule: events.Rule; dlq: sqs.Queue }> = {};

  constructor(scope: Construct, id: string, props: EventRoutingProps) {
    super(scope, id);
    this.bus = new events.EventBus(this, 'Bus', { eventBusName: props.busName });
    this.bus.archive('Archive', {
      description: 'Replayable history of the bus',
      eventPattern: { account: [this.bus.env.account] },
      retention: props.archiveRetention ?? Duration.days(90),
    });
    this.bus.applyRemovalPolicy(RemovalPolicy.DESTROY);
    const defaultBus = events.EventBus.fromEventBusName(this, 'DefaultBus', 'default');

    for (const route of props.rules) {
      const fromAws = (route.pattern.source ?? []).some((s) => s.startsWith('aws.'));
      const dlq = deadLetterQueue(this, `${route.name}-dlq`);
      const rule = new events.Rule(this, route.name, {
        description: `${route.name} → ${route.handler}`,
        eventBus: fromAws ? defaultBus : this.bus,
        eventPattern: { ...route.pattern, ...(route.detail ? { detail: route.detail } : {}) } as events.EventPattern,
        targets: [
          new targets.LambdaFunction(props.functionFor(route.handler).function, {
            deadLetterQueue: dlq,
            retryAttempts: props.retryAttempts ?? 20,
            maxEventAge: props.maxEventAge ?? Duration.hours(24),
          }),
        ],
      });
      this.rules[route.name] = { rule, dlq };
    }
  }
}

import type { Context } from 'aws-lambda';
import type { Deps } from './deps';
import { lambda } from './lambda';
import { streamConsumer, type ProjectionBatch } from './stream';
import type { Delivery } from './webhooks/deliveries';
import { WebhookRunner } from './webhooks/runner';

/**
 * Stream consumer: turns domain events into webhook deliveries (one per event × subscribed endpoint,
 * created idempotently and durably scheduled), then makes each first attempt at once, lanes in
 * parallel and each job's deliveries in order. If this Lambda dies or times out after creating a
 * delivery, the scheduled sender (`send-webhooks`) attempts it: nothing is lost, and a redelivered
 * batch creates and sends nothing new.
 */
export const make = (deps: Deps) => {
  const runner = new WebhookRunner(deps);
  return async (event: ProjectionBatch, context?: Context) => {
    runner.beginBatch();
    const created: Delivery[] = [];
    const consume = streamConsumer('', async (stored) => {
      created.push(...(await runner.fanOut(stored)));
    });
    const response = await consume(event, context);
    await runner.attemptInLanes(created);
    return response;
  };
};

export const handler = lambda(make);

import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { GetCommand, QueryCommand, TransactWriteCommand, UpdateCommand, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { encodeTime } from 'ulidx';
import type { StoredEvent } from '../adapters/event-store';
import type { Deps } from '../deps';
import { queryPage } from '../adapters/dynamodb';
import { publicEventId } from '../api/present';

/**
 * The durable side of webhook delivery, in the views table (no GSI):
 * - `whdeliveries#<endpoint id>` / `<webhook id>`: one delivery (event × endpoint) with its attempts,
 *   created by a conditional put, so a redelivered stream record creates nothing new. Webhook ids sort
 *   by the event's time, so a query reads the log newest first.
 * - `whdue#<minute>` / `<due time>#<endpoint id>#<webhook id>`: the retry schedule, partitioned by the
 *   minute an attempt is due; the scheduled sender reads the minutes up to now.
 * - `whlane#<endpoint id>` / `<stream id>`: the last delivery created for a job (or account) stream,
 *   so each delivery knows the one before it in its lane (order of occurrence per job).
 * - `whhealth#<endpoint id>`: since when every attempt has failed.
 */
export interface Attempt {
  at: string;
  statusCode: number | null;
  durationMs: number;
  error: string | null;
  response: string | null;
}

export interface DueKey {
  pk: string;
  sk: string;
}

export interface Delivery {
  pk: string;
  sk: string;
  webhookId: string;
  endpointId: string;
  accountId: string;
  eventId: string;
  eventType: string;
  /** The stream the event came from: deliveries of one lane to one endpoint go out in order. */
  lane: string;
  /** The webhook id of the previous delivery in the lane to this endpoint, if any. */
  after: string | null;
  /** A later delivery of the lane waiting for this one (set by it). */
  successor?: string;
  body: string;
  createdAt: string;
  status: 'pending' | 'succeeded' | 'failed';
  attempts: Attempt[];
  nextAttemptAt: string | null;
  dueKey: DueKey | null;
  failureReason: string | null;
  leaseUntil?: string;
  /** Epoch seconds: DynamoDB TTL removes the record after the retention period. */
  expiresAt: number;
}

type Store = Pick<Deps, 'doc' | 'tables'>;

const deliveriesPk = (endpointId: string) => `whdeliveries#${endpointId}`;
export const deliveryKey = (endpointId: string, webhookId: string) => ({ pk: deliveriesPk(endpointId), sk: webhookId });
const laneKey = (endpointId: string, lane: string) => ({ pk: `whlane#${endpointId}`, sk: lane });
const healthKey = (endpointId: string) => ({ pk: `whhealth#${endpointId}`, sk: 'health' });
export const CURSOR_KEY = { pk: 'whdue-cursor', sk: 'cursor' };

/** The due partition of a time: its minute, `whdue#2026-11-25T12:34`. */
export const duePartition = (iso: string) => `whdue#${iso.slice(0, 16)}`;
export const dueKeyOf = (dueAt: string, endpointId: string, webhookId: string): DueKey => ({
  pk: duePartition(dueAt),
  sk: `${dueAt}#${endpointId}#${webhookId}`,
});

/**
 * The `webhook-id` of an event's deliveries: `msg_` + the event's time (ULID time part, so ids sort by
 * time) + the public event id's tail. Derived from the stored event alone, so a redelivered record
 * maps to the same id, and it is the same for every attempt.
 */
export const webhookIdOf = (stored: StoredEvent) =>
  `msg_${encodeTime(Date.parse(stored.at), 10).toLowerCase()}${publicEventId(stored).slice('evt_'.length)}`;

export const WEBHOOK_ID = /^msg_[0-9a-z]{10}[0-9a-z]{6,80}$/;

const isConditionFailure = (error: unknown) => error instanceof ConditionalCheckFailedException;
const cancelledOn = (error: unknown) =>
  error instanceof TransactionCanceledException ? (error.CancellationReasons ?? []).map((r) => r.Code ?? 'None') : null;

/**
 * Creates the delivery of one event to one endpoint, due now, unless it exists. Records it as the
 * last of its lane. Its entry in the due schedule is put at `safetyNetAt`, a little later: the
 * creator attempts it at once, and the scheduled sender only picks it up if that attempt never
 * happened (the creator crashed or timed out), instead of racing the creator for every delivery.
 * @returns the delivery, or null when it already existed (a redelivered stream record).
 */
export async function createDelivery(
  deps: Store,
  input: { endpointId: string; accountId: string; stored: StoredEvent; eventType: string; body: string; now: string; safetyNetAt: string; retentionSeconds: number },
): Promise<Delivery | null> {
  const { endpointId, stored, now } = input;
  const webhookId = webhookIdOf(stored);
  const lane = stored.streamId;
  const { Item: last } = await deps.doc.send(new GetCommand({ TableName: deps.tables.views, Key: laneKey(endpointId, lane), ConsistentRead: true }));
  const due = dueKeyOf(input.safetyNetAt, endpointId, webhookId);
  const delivery: Delivery = {
    ...deliveryKey(endpointId, webhookId),
    webhookId,
    endpointId,
    accountId: input.accountId,
    eventId: publicEventId(stored),
    eventType: input.eventType,
    lane,
    // Only an earlier event of the lane can come before this one.
    after: last && last.lastVersion < stored.version ? (last.last as string) : null,
    body: input.body,
    createdAt: stored.at,
    status: 'pending',
    attempts: [],
    nextAttemptAt: now,
    dueKey: due,
    failureReason: null,
    expiresAt: Math.floor(Date.parse(now) / 1000) + input.retentionSeconds,
  };
  const putDelivery = { Put: { TableName: deps.tables.views, Item: delivery, ConditionExpression: 'attribute_not_exists(pk)' } };
  const putDue = { Put: { TableName: deps.tables.views, Item: { ...due, endpointId, webhookId } } };
  const putLane = {
    Put: {
      TableName: deps.tables.views,
      Item: { ...laneKey(endpointId, lane), last: webhookId, lastVersion: stored.version, expiresAt: delivery.expiresAt },
      ConditionExpression: 'attribute_not_exists(pk) OR lastVersion < :version',
      ExpressionAttributeValues: { ':version': stored.version },
    },
  };
  try {
    await deps.doc.send(new TransactWriteCommand({ TransactItems: [putDelivery, putLane, putDue] }));
    return delivery;
  } catch (error) {
    const reasons = cancelledOn(error);
    if (reasons?.[0] === 'ConditionalCheckFailed') return null; // it exists: a redelivered record
    if (reasons?.[1] !== 'ConditionalCheckFailed') throw error;
  }
  // A later event of the lane got there first (only a reordered stream could do that): the delivery
  // is still owed, just without a place in the lane's order.
  try {
    await deps.doc.send(new TransactWriteCommand({ TransactItems: [putDelivery, putDue] }));
    return delivery;
  } catch (error) {
    if (cancelledOn(error)?.[0] === 'ConditionalCheckFailed') return null;
    throw error;
  }
}

export async function getDelivery(deps: Store, endpointId: string, webhookId: string): Promise<Delivery | undefined> {
  const { Item } = await deps.doc.send(new GetCommand({ TableName: deps.tables.views, Key: deliveryKey(endpointId, webhookId), ConsistentRead: true }));
  return Item as Delivery | undefined;
}

/**
 * Takes the right to attempt a delivery for `leaseSeconds`: only a pending delivery that is due and
 * not leased by another run. Two runs (the stream consumer and the scheduled sender, or a doubled
 * tick) therefore never send the same attempt twice.
 * @returns the delivery as leased, or null when someone else has it or it is not due.
 */
export async function leaseDelivery(deps: Store, endpointId: string, webhookId: string, now: string, leaseUntil: string): Promise<Delivery | null> {
  try {
    const { Attributes } = await deps.doc.send(
      new UpdateCommand({
        TableName: deps.tables.views,
        Key: deliveryKey(endpointId, webhookId),
        UpdateExpression: 'SET leaseUntil = :lease',
        ConditionExpression: '#status = :pending AND nextAttemptAt <= :now AND (attribute_not_exists(leaseUntil) OR leaseUntil < :now)',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':lease': leaseUntil, ':pending': 'pending', ':now': now },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return Attributes as Delivery;
  } catch (error) {
    if (isConditionFailure(error)) return null;
    throw error;
  }
}

/**
 * Writes what happened to a leased delivery, atomically with its schedule: the attempt (if one was
 * made) is appended, the old due entry removed and, while it stays pending, a new one put.
 * @throws ConditionalCheckFailedException if the lease was lost (nothing is written).
 */
export async function recordOutcome(
  deps: Store,
  delivery: Delivery,
  change: { attempt?: Attempt; status: Delivery['status']; nextAttemptAt: string | null; failureReason?: string | null },
): Promise<void> {
  const due = change.status === 'pending' && change.nextAttemptAt ? dueKeyOf(change.nextAttemptAt, delivery.endpointId, delivery.webhookId) : null;
  const items: NonNullable<TransactWriteCommandInput['TransactItems']> = [
    {
      Update: {
        TableName: deps.tables.views,
        Key: deliveryKey(delivery.endpointId, delivery.webhookId),
        UpdateExpression: `SET #status = :status, nextAttemptAt = :next, dueKey = :due, failureReason = :reason${change.attempt ? ', attempts = list_append(attempts, :attempt)' : ''} REMOVE leaseUntil`,
        ConditionExpression: 'leaseUntil = :lease',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':status': change.status,
          ':next': change.nextAttemptAt,
          ':due': due,
          ':reason': change.failureReason ?? null,
          ':lease': delivery.leaseUntil,
          ...(change.attempt ? { ':attempt': [change.attempt] } : {}),
        },
      },
    },
  ];
  if (delivery.dueKey && delivery.dueKey.sk !== due?.sk) items.push({ Delete: { TableName: deps.tables.views, Key: delivery.dueKey } });
  if (due && due.sk !== delivery.dueKey?.sk) items.push({ Put: { TableName: deps.tables.views, Item: { ...due, endpointId: delivery.endpointId, webhookId: delivery.webhookId } } });
  await deps.doc.send(new TransactWriteCommand({ TransactItems: items }));
}

/**
 * Makes a delivery due now (a manual retry, or the lane's predecessor finishing): pending again, the
 * schedule moved to now. A delivery being attempted right now (leased) is left alone.
 * `onlyPending` (the lane's predecessor finishing) leaves a delivery alone that is no longer pending:
 * a concurrent sweep may have sent it already, and only a person's retry may send it again.
 * @returns false if it does not exist, is leased, or (with `onlyPending`) is done.
 */
export async function makeDueNow(deps: Store, endpointId: string, webhookId: string, now: string, options: { onlyPending?: boolean } = {}): Promise<boolean> {
  const delivery = await getDelivery(deps, endpointId, webhookId);
  if (!delivery || (delivery.leaseUntil && delivery.leaseUntil >= now)) return false;
  if (options.onlyPending && delivery.status !== 'pending') return false;
  const due = dueKeyOf(now, endpointId, webhookId);
  const items: NonNullable<TransactWriteCommandInput['TransactItems']> = [
    {
      Update: {
        TableName: deps.tables.views,
        Key: deliveryKey(endpointId, webhookId),
        UpdateExpression: 'SET #status = :pending, nextAttemptAt = :now, dueKey = :due, failureReason = :null',
        // Unchanged since read: a concurrent attempt or retry wins, and this one is a no-op.
        ConditionExpression: `attribute_exists(pk) AND (attribute_not_exists(leaseUntil) OR leaseUntil < :now) AND size(attempts) = :count${options.onlyPending ? ' AND #status = :pending' : ''}`,
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':pending': 'pending', ':now': now, ':due': due, ':null': null, ':count': delivery.attempts.length },
      },
    },
    { Put: { TableName: deps.tables.views, Item: { ...due, endpointId, webhookId } } },
  ];
  if (delivery.dueKey && delivery.dueKey.sk !== due.sk) items.push({ Delete: { TableName: deps.tables.views, Key: delivery.dueKey } });
  try {
    await deps.doc.send(new TransactWriteCommand({ TransactItems: items }));
    return true;
  } catch (error) {
    if (cancelledOn(error)) return false;
    throw error;
  }
}

/**
 * Registers `webhookId` as waiting for its lane predecessor, if that is still pending.
 * @returns true if it must wait (the predecessor will make it due when it finishes).
 */
export async function waitBehind(deps: Store, endpointId: string, predecessor: string, webhookId: string): Promise<boolean> {
  try {
    await deps.doc.send(
      new UpdateCommand({
        TableName: deps.tables.views,
        Key: deliveryKey(endpointId, predecessor),
        UpdateExpression: 'SET successor = :me',
        ConditionExpression: '#status = :pending',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':me': webhookId, ':pending': 'pending' },
      }),
    );
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}

/** Notes a failed attempt; returns since when, and how many times in a row, the endpoint has failed. */
export async function noteFailure(deps: Store, endpointId: string, now: string): Promise<{ failingSince: string; failures: number }> {
  const { Attributes } = await deps.doc.send(
    new UpdateCommand({
      TableName: deps.tables.views,
      Key: healthKey(endpointId),
      UpdateExpression: 'SET failingSince = if_not_exists(failingSince, :now) ADD failures :one',
      ExpressionAttributeValues: { ':now': now, ':one': 1 },
      ReturnValues: 'ALL_NEW',
    }),
  );
  return { failingSince: Attributes!.failingSince as string, failures: Attributes!.failures as number };
}

/** Notes a successful attempt: the endpoint is healthy again. */
export async function noteSuccess(deps: Store, endpointId: string): Promise<void> {
  await deps.doc.send(new UpdateCommand({ TableName: deps.tables.views, Key: healthKey(endpointId), UpdateExpression: 'REMOVE failingSince, failures' }));
}

/** A page of an endpoint's delivery log, newest first. */
export async function listDeliveries(
  deps: Store,
  endpointId: string,
  options: { limit: number; after?: string; status?: string },
): Promise<{ deliveries: Delivery[]; after: string | null }> {
  const { items, after } = await queryPage(deps.doc, { TableName: deps.tables.views, pk: deliveriesPk(endpointId), ...options });
  return { deliveries: items as Delivery[], after };
}

/** The due entries of one minute's partition up to `now`, oldest first. */
export async function dueEntries(deps: Store, partition: string, now: string, limit = 100): Promise<Array<DueKey & { endpointId: string; webhookId: string }>> {
  const { Items } = await deps.doc.send(
    new QueryCommand({
      TableName: deps.tables.views,
      KeyConditionExpression: 'pk = :pk AND sk < :upper',
      // '$' sorts right after '#', so every entry due at or before `now` is included.
      ExpressionAttributeValues: { ':pk': partition, ':upper': `${now}$` },
      Limit: limit,
      ConsistentRead: true,
    }),
  );
  return (Items ?? []) as Array<DueKey & { endpointId: string; webhookId: string }>;
}

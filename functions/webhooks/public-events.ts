import type { WebhookEventType } from '../../events/api/webhooks';
import { JobEvent } from '../../events/job-events';
import { AdjustmentGranted, BalanceLow, CreditGranted } from '../../events/account-events';
import { evolveJob, initialJobState } from '../../domain/job/job';
import type { StoredEvent } from '../adapters/event-store';
import type { Deps } from '../deps';
import { presentJob, publicEventId } from '../api/present';
import type { JobBody } from '../../events/api/jobs';

/** A domain event as customers see it: its public type, whose it is, and the payload's `data`. */
export interface PublicEvent {
  type: WebhookEventType;
  accountId: string;
  data: Record<string, unknown>;
}

/** Builds the public event for a stored domain event (null: nothing to tell, e.g. an unknown job). */
export type PublicEventBuilder = (deps: Deps, stored: StoredEvent) => Promise<PublicEvent | null>;

/** Payloads stay thin: the whole webhook body under this many bytes. */
export const MAX_PAYLOAD_BYTES = 20_000;

/**
 * A job event: the payload is the job object as it was right after the event (its stream folded up
 * to the event's version), with usage as of the event's time.
 */
export const jobEvent =
  (type: WebhookEventType): PublicEventBuilder =>
  async (deps, stored) => {
    const { events } = await deps.store.readStream(stored.streamId);
    let state = initialJobState();
    for (const e of events) {
      if (e.version > stored.version) break;
      state = evolveJob(state, JobEvent.parse({ type: e.type, data: e.data }));
    }
    if (state.status === 'none') return null;
    return { type, accountId: state.job.accountId, data: { job: thinJob(presentJob(state, new Date(stored.at), deps.files)) } };
  };

/**
 * An event of the account's own stream (`account#<id>`), e.g. the ledger's `CreditGranted`:
 * `CreditGranted: accountEvent('credit.added', (stored) => ({ credit: … }))`.
 */
export const accountEvent =
  (type: WebhookEventType, payload: (stored: StoredEvent) => Record<string, unknown>): PublicEventBuilder =>
  async (_deps, stored) => ({ type, accountId: stored.streamId.slice('account#'.length), data: payload(stored) });

/**
 * The one table from domain events to public webhook events. Adding a public event is one entry here
 * (and, for a new type, one value in `WebhookEventType`). Types not listed are never sent.
 * `credit.added` carries the credit as `GET /v1/account` lists it when granted; `balance.low` says which
 * balance (the trial in GPU-seconds, or a credit in fen) fell below 10% of what was granted.
 */
export const publicEvents: Readonly<Record<string, PublicEventBuilder>> = {
  JobQueued: jobEvent('job.queued'),
  JobStarting: jobEvent('job.starting'),
  JobRunning: jobEvent('job.running'),
  JobSucceeded: jobEvent('job.succeeded'),
  JobFailed: jobEvent('job.failed'),
  JobCancelled: jobEvent('job.cancelled'),
  CreditGranted: accountEvent('credit.added', (stored) => {
    const credit = CreditGranted.shape.data.parse(stored.data);
    return {
      credit: {
        id: credit.creditId,
        source: credit.source,
        voucher_id: credit.voucherId,
        amount: { amount: credit.amount, currency: credit.currency },
        expires_at: credit.expiresAt,
        recurrence: credit.recurrence,
        period: credit.period,
        granted_at: credit.grantedAt,
      },
    };
  }),
  // An operator's goodwill or refund credit: the same `credit.added`, with `source: "adjustment"`.
  // The operator's name and reason are internal and stay out of the customer's payload.
  AdjustmentGranted: accountEvent('credit.added', (stored) => {
    const credit = AdjustmentGranted.shape.data.parse(stored.data);
    return {
      credit: {
        id: credit.creditId,
        source: 'adjustment',
        voucher_id: null,
        amount: { amount: credit.amount, currency: credit.currency },
        expires_at: credit.expiresAt,
        recurrence: null,
        period: null,
        granted_at: credit.grantedAt,
      },
    };
  }),
  BalanceLow: accountEvent('balance.low', (stored) => {
    const low = BalanceLow.shape.data.parse(stored.data);
    return {
      balance: { source: low.source, credit_id: low.creditId, unit: low.unit, granted: low.granted, remaining: low.remaining, at: low.at },
    };
  }),
};

/** The webhook body of a public event: `{ type, timestamp, data }` (API.md). */
export const webhookBody = (event: PublicEvent, stored: StoredEvent) =>
  JSON.stringify({ type: event.type, timestamp: stored.at, data: event.data });

/** The stable public id of the event a delivery carries (the one `GET /v1/jobs/{id}/events` shows). */
export { publicEventId };

/**
 * Keeps a job payload thin: a job's command may be up to 1 MB, so past the limit its arguments and
 * reason are cut (the whole job is one GET away). Everything else in a job object is small.
 */
export function thinJob(job: JobBody): JobBody {
  if (Buffer.byteLength(JSON.stringify(job)) <= MAX_PAYLOAD_BYTES - 1_000) return job;
  return {
    ...job,
    command: job.command.slice(0, 16).map((arg) => (arg.length > 256 ? `${arg.slice(0, 256)}…` : arg)),
    status_reason: job.status_reason && job.status_reason.length > 1_024 ? `${job.status_reason.slice(0, 1_024)}…` : job.status_reason,
  };
}

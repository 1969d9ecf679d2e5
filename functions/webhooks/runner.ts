import { signingSecrets, type EndpointState, type WebhookRegistryState } from '../../domain/webhooks/endpoints';

/** How long an account's endpoints, once read, are trusted (see `WebhookRunner.registry`). */
const REGISTRY_CACHE_MS = 1_000;
import type { StoredEvent } from '../adapters/event-store';
import { load } from '../aggregates/aggregate';
import { webhookRegistries } from '../aggregates/webhooks';
import { runWebhookCommand } from './commands';
import type { Deps } from '../deps';
import {
  createDelivery,
  getDelivery,
  leaseDelivery,
  makeDueNow,
  noteFailure,
  noteSuccess,
  recordOutcome,
  waitBehind,
  type Delivery,
} from './deliveries';
import { WebhookHttpSender } from './http-sender';
import { publicEvents, webhookBody } from './public-events';
import { webhookSettings, type WebhookSettings } from './settings';
import { logger } from '../logger';
import { METRIC, recordMetric } from '../metrics';

/** Status codes whose `Retry-After` is honoured (besides our own schedule). */
const RETRY_AFTER_STATUSES = new Set([429, 502, 503, 504]);

/** What the caller already knows, to save reads. */
export interface AttemptHints {
  /** A delivery the caller has just seen finish (so nothing in its lane waits for it). */
  finishedPredecessor?: string;
}

/** What an attempt led to. */
export type AttemptResult = 'succeeded' | 'retrying' | 'failed' | 'waiting' | 'skipped';

/**
 * Creates and attempts webhook deliveries: shared by the stream consumer (first attempts, at once) and
 * the scheduled sender (retries from the durable schedule). Every step is safe to run twice or
 * concurrently: creation is a conditional put, an attempt needs a lease on the delivery.
 */
export class WebhookRunner {
  readonly settings: WebhookSettings;
  private readonly sender: WebhookHttpSender;
  private readonly registries = new Map<string, { state: WebhookRegistryState; readAt: number }>();

  constructor(private readonly deps: Deps) {
    this.settings = webhookSettings(deps.webhooks);
    this.sender = new WebhookHttpSender({ allowLoopback: this.settings.allowLoopback });
  }

  /**
   * Turns one stored domain event into deliveries, one per enabled endpoint of its account that
   * subscribes to its public type and existed when it happened.
   * @returns the deliveries created now (none for a redelivered record).
   */
  async fanOut(stored: StoredEvent): Promise<Delivery[]> {
    const build = publicEvents[stored.type];
    if (!build) return [];
    const event = await build(this.deps, stored);
    if (!event) return [];
    const state = await this.registry(event.accountId);
    const endpoints = Object.values(state.endpoints).filter(
      (e) => e.status === 'enabled' && e.createdAt <= stored.at && (e.events === null || e.events.includes(event.type)),
    );
    if (endpoints.length === 0) return [];
    const body = webhookBody(event, stored);
    const nowDate = this.deps.now();
    const now = nowDate.toISOString();
    const safetyNetAt = new Date(nowDate.getTime() + this.settings.timeoutMs + 15_000).toISOString();
    const created = await Promise.all(
      endpoints.map((endpoint) =>
        createDelivery(this.deps, {
          endpointId: endpoint.endpointId,
          accountId: event.accountId,
          stored,
          eventType: event.type,
          body,
          now,
          safetyNetAt,
          retentionSeconds: this.settings.retentionSeconds,
        }),
      ),
    );
    return created.filter((d): d is Delivery => d !== null);
  }

  /**
   * Attempts deliveries: lanes (one job's deliveries to one endpoint) in parallel, each lane in order.
   * Never throws for a receiver's failure; that is recorded and scheduled.
   */
  async attemptInLanes(deliveries: Array<Pick<Delivery, 'endpointId' | 'webhookId' | 'lane'>>, concurrency = 16): Promise<void> {
    const lanes = new Map<string, Array<Pick<Delivery, 'endpointId' | 'webhookId'>>>();
    for (const d of deliveries) {
      const key = `${d.endpointId} ${d.lane}`;
      lanes.set(key, [...(lanes.get(key) ?? []), d]);
    }
    const queue = [...lanes.values()];
    await Promise.all(
      Array.from({ length: Math.min(concurrency, queue.length) }, async () => {
        for (let lane = queue.shift(); lane; lane = queue.shift()) {
          let previous: { webhookId: string; result: AttemptResult } | undefined;
          for (const d of lane) {
            // A predecessor this loop just finished needs no second look.
            const done = previous && (previous.result === 'succeeded' || previous.result === 'failed') ? previous.webhookId : undefined;
            previous = { webhookId: d.webhookId, result: await this.attemptLogged(d.endpointId, d.webhookId, { finishedPredecessor: done }) };
          }
        }
      }),
    );
  }

  /** {@link attempt}, with an unexpected error (e.g. DynamoDB unavailable) logged: the schedule retries it. */
  async attemptLogged(endpointId: string, webhookId: string, hints: AttemptHints = {}): Promise<AttemptResult> {
    try {
      return await this.attempt(endpointId, webhookId, hints);
    } catch (error) {
      logger.error('webhook attempt failed', { endpointId, webhookId, error });
      return 'skipped';
    }
  }

  /**
   * One attempt at a delivery, if it is due and nobody else is attempting it: waits behind an earlier
   * pending delivery of its lane, signs and posts, records the outcome and schedules the next attempt,
   * disables the endpoint on 410 or after failing for `disableAfterSeconds`, and when the delivery is
   * done, attempts the one waiting behind it.
   */
  async attempt(endpointId: string, webhookId: string, hints: AttemptHints = {}): Promise<AttemptResult> {
    const now = this.deps.now();
    const nowIso = now.toISOString();
    const leaseUntil = new Date(now.getTime() + this.settings.timeoutMs + 30_000).toISOString();
    const delivery = await leaseDelivery(this.deps, endpointId, webhookId, nowIso, leaseUntil);
    if (!delivery) return 'skipped';

    const endpoint = (await this.registry(delivery.accountId)).endpoints[endpointId];
    if (!endpoint || endpoint.status !== 'enabled') {
      const reason = !endpoint || endpoint.status === 'deleted' ? 'endpoint_deleted' : 'endpoint_disabled';
      await recordOutcome(this.deps, delivery, { status: 'failed', nextAttemptAt: null, failureReason: reason });
      return this.finished(delivery, 'failed');
    }

    if (delivery.after && delivery.after !== hints.finishedPredecessor) {
      const predecessor = await getDelivery(this.deps, endpointId, delivery.after);
      if (predecessor?.status === 'pending' && (await waitBehind(this.deps, endpointId, delivery.after, webhookId))) {
        // The predecessor makes this due when it is done; the schedule is only the safety net.
        const next = new Date(Math.max(Date.parse(predecessor.nextAttemptAt ?? nowIso), now.getTime()) + 1_000).toISOString();
        await recordOutcome(this.deps, delivery, { status: 'pending', nextAttemptAt: next });
        return 'waiting';
      }
    }

    const outcome = await this.sender.send({
      url: endpoint.url,
      webhookId,
      body: delivery.body,
      secrets: signingSecrets(endpoint, nowIso),
      now,
      timeoutMs: this.settings.timeoutMs,
    });
    const attempt = { at: nowIso, statusCode: outcome.statusCode, durationMs: outcome.durationMs, error: outcome.error, response: outcome.responseSnippet };
    const code = outcome.statusCode;
    if (code !== null && code >= 200 && code < 300) {
      await recordOutcome(this.deps, delivery, { attempt, status: 'succeeded', nextAttemptAt: null });
      await noteSuccess(this.deps, endpointId);
      return this.finished(delivery, 'succeeded');
    }
    if (code === 410) {
      await recordOutcome(this.deps, delivery, { attempt, status: 'failed', nextAttemptAt: null, failureReason: 'endpoint_gone' });
      await this.disable(endpoint, 'gone');
      return this.finished(delivery, 'failed');
    }
    // Delays (and Retry-After) count from when the answer came, not from when the attempt began.
    const answeredAt = new Date(now.getTime() + outcome.durationMs);
    const next = this.nextAttemptAt(delivery.attempts.length + 1, answeredAt, code !== null && RETRY_AFTER_STATUSES.has(code) ? outcome.retryAfterSeconds : null);
    await recordOutcome(this.deps, delivery, { attempt, status: next ? 'pending' : 'failed', nextAttemptAt: next, failureReason: next ? null : 'retries_exhausted' });
    const health = await noteFailure(this.deps, endpointId, nowIso);
    if (health.failures >= this.settings.disableAfterFailures && now.getTime() - Date.parse(health.failingSince) >= this.settings.disableAfterSeconds * 1000) {
      await this.disable(endpoint, 'failing');
    }
    return next ? 'retrying' : this.finished(delivery, 'failed');
  }

  /**
   * When the attempt after `attempts` failed ones is due: the schedule's delay (± jitter), or the
   * receiver's `Retry-After` when that is later (capped). Null when the schedule is used up.
   */
  nextAttemptAt(attempts: number, now: Date, retryAfterSeconds: number | null): string | null {
    const delay = this.settings.retryDelaysSeconds[attempts - 1];
    if (delay === undefined) return null;
    const jittered = delay * (1 + (Math.random() * 2 - 1) * this.settings.jitter);
    const honoured = Math.max(jittered, Math.min(retryAfterSeconds ?? 0, this.settings.maxRetryAfterSeconds));
    return new Date(now.getTime() + Math.round(honoured * 1000)).toISOString();
  }

  /** A delivery is done: the one waiting behind it in its lane goes now. */
  private async finished(delivery: Delivery, result: 'succeeded' | 'failed'): Promise<AttemptResult> {
    if (result === 'failed') recordMetric(METRIC.webhookDeliveriesFailed);
    const after = await getDelivery(this.deps, delivery.endpointId, delivery.webhookId);
    if (after?.successor) {
      const now = this.deps.now().toISOString();
      if (await makeDueNow(this.deps, delivery.endpointId, after.successor, now, { onlyPending: true })) await this.attemptLogged(delivery.endpointId, after.successor);
    }
    return result;
  }

  /** Starts a consumer batch or a sender run: nothing read before it is trusted. */
  beginBatch(): void {
    this.registries.clear();
  }

  /**
   * An account's endpoints, read at most once a second per account within one batch: a batch fans out and attempts
   * many deliveries of one account in a moment. So a deleted or disabled endpoint may still get
   * deliveries for up to a second; our own disabling drops the cached copy at once.
   */
  private async registry(accountId: string): Promise<WebhookRegistryState> {
    const cached = this.registries.get(accountId);
    if (cached && Date.now() - cached.readAt < REGISTRY_CACHE_MS) return cached.state;
    const { state } = await load(this.deps.store, webhookRegistries, accountId);
    if (this.registries.size > 10_000) this.registries.clear();
    this.registries.set(accountId, { state, readAt: Date.now() });
    return state;
  }

  private async disable(endpoint: EndpointState, reason: 'gone' | 'failing'): Promise<void> {
    this.registries.delete(endpoint.accountId);
    const metadata = { actor: 'webhooks' };
    await runWebhookCommand(this.deps, endpoint.accountId, (now) => ({ type: 'DisableEndpoint', data: { endpointId: endpoint.endpointId, reason }, metadata: { now } }), metadata);
    logger.warn('webhook endpoint disabled', { endpointId: endpoint.endpointId, reason });
  }

  async close(): Promise<void> {
    await this.sender.close();
  }
}

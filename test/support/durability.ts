/**
 * Invariants of the ledger, the jobs and the webhooks, checked against the event table (the truth)
 * and against what the API serves (the read models). Each check returns the violations it found as
 * readable lines (empty = all good), so a test can `expect(violations).toEqual([])` and see them
 * all at once. Used by the crash test, and meant for any test that must show nothing was lost or
 * done twice (e.g. after a projection rebuild).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { StoredEvent } from '../../functions/adapters/event-store';
import { readEventStreams } from '../../functions/rebuild';
import { foldStored } from '../../functions/aggregates/aggregate';
import { accounts } from '../../functions/aggregates/ledger';
import { publicEvents } from '../../functions/webhooks/public-events';
import { webhookIdOf } from '../../functions/webhooks/deliveries';

/** Every event of the table, by stream id, in version order. */
export type Streams = Map<string, StoredEvent[]>;

/**
 * Reads the whole event table as the code reads it (upcast), by stream in version order: the same
 * reader the rebuild uses. Fine for test-sized tables.
 */
export const readAllStreams = (doc: DynamoDBDocumentClient, eventsTable: string): Promise<Streams> => readEventStreams(doc, eventsTable);

const FINAL_JOB_EVENTS = new Set(['JobSucceeded', 'JobFailed', 'JobCancelled']);

/** One balance (the trial in GPU-seconds, or a credit in fen) as derived from the account's events. */
export interface DerivedBalance {
  granted: number;
  held: number;
  charged: number;
  /** granted − held − charged. */
  remaining: number;
}

/** The balances of one account, derived from its events alone (no domain code), by `trial` and credit id. */
export function deriveBalances(events: StoredEvent[]): Map<string, DerivedBalance> {
  const balances = new Map<string, DerivedBalance>();
  const balance = (key: string) => {
    let found = balances.get(key);
    if (!found) balances.set(key, (found = { granted: 0, held: 0, charged: 0, remaining: 0 }));
    return found;
  };
  const open = new Map<string, { trialGpuSeconds: number; credits?: Array<{ creditId: string; amount: number }> }>();
  for (const { type, data } of events as Array<StoredEvent & { data: any }>) {
    if (type === 'AccountOpened') balance('trial').granted += data.trial.gpuSeconds;
    if (type === 'CreditGranted') balance(data.creditId).granted += data.amount;
    if (type === 'HoldPlaced') open.set(data.jobId, data);
    if (type === 'HoldSettled') {
      open.delete(data.jobId);
      balance('trial').charged += data.trialGpuSecondsCharged;
      for (const portion of data.creditsCharged ?? []) balance(portion.creditId).charged += portion.amount;
    }
  }
  for (const hold of open.values()) {
    balance('trial').held += hold.trialGpuSeconds;
    for (const portion of hold.credits ?? []) balance(portion.creditId).held += portion.amount;
  }
  for (const b of balances.values()) b.remaining = b.granted - b.held - b.charged;
  return balances;
}

/** What `GET /v1/account` answered (the fields the checks read). */
export interface AccountView {
  id: string;
  trial: { gpu_seconds_remaining: number };
  credits: Array<{ id: string; remaining: { amount: number } }>;
}

/**
 * The ledger of every account: granted = remaining + held + charged for the trial and each credit,
 * with `remaining` as the decider's state has it and as the API shows it (when `views` are given);
 * no balance negative; every hold settled at most once, and only a placed one; a settlement charges
 * and releases exactly what its hold reserved (no more).
 */
export function checkLedger(streams: Streams, views: AccountView[] = []): string[] {
  const violations: string[] = [];
  for (const [streamId, events] of streams) {
    if (!streamId.startsWith('account#')) continue;
    const accountId = streamId.slice('account#'.length);
    const derived = deriveBalances(events);
    const { state } = foldStored(accounts, events);
    if (state.status !== 'open') {
      violations.push(`${accountId}: account stream without AccountOpened`);
      continue;
    }
    const holds = new Map<string, any>();
    const settled = new Set<string>();
    for (const { type, data } of events as Array<StoredEvent & { data: any }>) {
      if (type === 'HoldPlaced') {
        if (holds.has(data.jobId)) violations.push(`${accountId}: second hold for ${data.jobId}`);
        holds.set(data.jobId, data);
      }
      if (type !== 'HoldSettled') continue;
      const hold = holds.get(data.jobId);
      if (!hold) violations.push(`${accountId}: settlement of ${data.jobId} without a hold`);
      if (settled.has(data.jobId)) violations.push(`${accountId}: ${data.jobId} settled twice`);
      settled.add(data.jobId);
      if (hold && data.trialGpuSecondsCharged + data.trialGpuSecondsReleased !== hold.trialGpuSeconds) {
        violations.push(`${accountId}: ${data.jobId} settled ${data.trialGpuSecondsCharged}+${data.trialGpuSecondsReleased} trial s of a ${hold.trialGpuSeconds} s hold`);
      }
      for (const portion of data.creditsCharged ?? []) {
        const reserved = hold?.credits?.find((c: any) => c.creditId === portion.creditId)?.amount ?? 0;
        if (portion.amount > reserved) violations.push(`${accountId}: ${data.jobId} charged ${portion.amount} fen of credit ${portion.creditId}, held ${reserved}`);
      }
    }
    const view = views.find((v) => v.id === accountId);
    for (const [key, b] of derived) {
      const where = `${accountId} ${key}`;
      if (b.remaining < 0 || b.held < 0 || b.charged < 0) violations.push(`${where}: negative balance ${JSON.stringify(b)}`);
      const credit = state.credits[key];
      const folded = key === 'trial' ? { ...state.trial, held: heldTrial(state) } : credit;
      if (!folded) violations.push(`${where}: not in the decider's state`);
      else if (folded.remaining + folded.held + folded.charged !== b.granted || folded.remaining !== b.remaining) {
        violations.push(`${where}: decider state ${JSON.stringify(folded)} ≠ events ${JSON.stringify(b)}`);
      }
      if (!view) continue;
      // The API leaves spent credits out: absent means nothing remaining.
      const shown = key === 'trial' ? view.trial.gpu_seconds_remaining : (view.credits.find((c) => c.id === key)?.remaining.amount ?? 0);
      if (shown !== b.remaining) violations.push(`${where}: API shows ${shown} remaining, granted ${b.granted} − held ${b.held} − charged ${b.charged} = ${b.remaining}`);
    }
  }
  return violations;
}

const heldTrial = (state: { holds: Record<string, { trialGpuSeconds: number }> }) =>
  Object.values(state.holds).reduce((sum, hold) => sum + hold.trialGpuSeconds, 0);

/**
 * Every job: ended at most once; an ended job settled exactly once, for the seconds it reports; a
 * queued job holds funds. With `settled`, every job must have ended (nothing left in flight).
 */
export function checkJobs(streams: Streams, { settled = false } = {}): string[] {
  const violations: string[] = [];
  const settlements = new Map<string, any[]>();
  const holds = new Set<string>();
  for (const [streamId, events] of streams) {
    if (!streamId.startsWith('account#')) continue;
    for (const { type, data } of events as Array<StoredEvent & { data: any }>) {
      if (type === 'HoldSettled') settlements.set(data.jobId, [...(settlements.get(data.jobId) ?? []), data]);
      if (type === 'HoldPlaced') holds.add(data.jobId);
    }
  }
  for (const [streamId, events] of streams) {
    if (!streamId.startsWith('job#')) continue;
    const jobId = streamId.slice('job#'.length);
    const finals = events.filter((e) => FINAL_JOB_EVENTS.has(e.type)) as Array<StoredEvent & { data: any }>;
    const paid = settlements.get(jobId) ?? [];
    if (!holds.has(jobId)) violations.push(`${jobId}: no hold`);
    if (finals.length > 1) violations.push(`${jobId}: ended ${finals.length} times (${finals.map((e) => e.type).join(', ')})`);
    if (finals.length === 0 && paid.length > 0) violations.push(`${jobId}: settled but not ended`);
    if (finals.length === 0 && settled) violations.push(`${jobId}: still ${events.at(-1)?.type} after settling`);
    if (finals.length === 1) {
      if (paid.length !== 1) violations.push(`${jobId}: ended and settled ${paid.length} times`);
      else if (paid[0].runSeconds !== finals[0]!.data.runSeconds) violations.push(`${jobId}: ran ${finals[0]!.data.runSeconds} s, settled ${paid[0].runSeconds} s`);
    }
  }
  return violations;
}

/**
 * The attempt numbers each compute job of a local stack logged when it started, by job id: the
 * tests' job commands append `$AWS_BATCH_JOB_ATTEMPT` to `$SX_CHECKPOINT_DIR/starts`. Jobs that
 * never started are absent.
 */
export function attemptStarts(dataDir: string): Map<string, string[]> {
  const jobsDir = join(dataDir, 'compute', 'jobs');
  const starts = new Map<string, string[]>();
  for (const jobId of existsSync(jobsDir) ? readdirSync(jobsDir) : []) {
    const file = join(jobsDir, jobId, 'checkpoints', 'starts');
    if (existsSync(file)) starts.set(jobId, readFileSync(file, 'utf8').trim().split('\n'));
  }
  return starts;
}

/** Each compute job's attempt starts (the attempt numbers its command logged, one per start): each attempt started at most once. */
export function checkAttemptStarts(starts: Map<string, string[]>): string[] {
  const violations: string[] = [];
  for (const [jobId, attempts] of starts) {
    const seen = new Set<string>();
    for (const attempt of attempts) {
      if (seen.has(attempt)) violations.push(`${jobId}: attempt ${attempt} started twice`);
      seen.add(attempt);
    }
  }
  return violations;
}

/**
 * The `webhook-id`s every endpoint subscribed to all events must get: one per public event of its
 * account recorded at or after the endpoint's creation (API.md: deliveries are at-least-once).
 */
export function expectedWebhookIds(streams: Streams, accountId: string, endpointCreatedAt: string): Set<string> {
  const ids = new Set<string>();
  for (const events of streams.values()) {
    for (const event of events) {
      if (!publicEvents[event.type] || event.at < endpointCreatedAt) continue;
      const owner = event.streamId.startsWith('account#') ? event.streamId.slice('account#'.length) : (events[0]?.data as any)?.accountId;
      if (owner === accountId) ids.add(webhookIdOf(event));
    }
  }
  return ids;
}

/** Each expected delivery id arrived at least once. */
export function checkDelivered(expected: Set<string>, received: Set<string>): string[] {
  return [...expected].filter((id) => !received.has(id)).map((id) => `webhook ${id} never delivered`);
}

import type { z } from 'zod';
import { AccountEvent, VoucherEvent } from '../events/account-events';
import { ApiKeyEvent, EmailEvent, KeyringEvent } from '../events/identity-events';
import { JobEvent } from '../events/job-events';
import { evolveAccount, initialAccountState, type AccountState } from '../domain/ledger/account';
import { evolveVoucher, initialVoucherState, type VoucherState } from '../domain/ledger/voucher';
import { evolveJob, initialJobState, type JobState } from '../domain/job/job';
import {
  evolveApiKey,
  evolveEmail,
  evolveKeyring,
  initialApiKeyState,
  initialEmailState,
  initialKeyringState,
  type ApiKeyState,
  type EmailState,
  type KeyringState,
} from '../domain/identity/identity';
import type { EventStore, StoredEvent } from './adapters/event-store';
import { WebhookEvent } from '../events/webhook-events';
import { evolveWebhookRegistry, initialWebhookRegistry, type WebhookRegistryState } from '../domain/webhooks/endpoints';

/** How one kind of stream is named, parsed and folded. */
export interface Aggregate<S, E> {
  streamId(id: string): string;
  schema: z.ZodType<E>;
  initial(): S;
  evolve(state: S, event: E): S;
}

export const jobs: Aggregate<JobState, JobEvent> = {
  streamId: (id) => `job#${id}`,
  schema: JobEvent,
  initial: initialJobState,
  evolve: evolveJob,
};

export const accounts: Aggregate<AccountState, AccountEvent> = {
  streamId: (id) => `account#${id}`,
  schema: AccountEvent,
  initial: initialAccountState,
  evolve: evolveAccount,
};

/** `voucher#<sha256 of the normalised code>`: the code itself is never stored. */
export const vouchers: Aggregate<VoucherState, VoucherEvent> = {
  streamId: (codeHash) => `voucher#${codeHash}`,
  schema: VoucherEvent,
  initial: initialVoucherState,
  evolve: evolveVoucher,
};

export const apiKeys: Aggregate<ApiKeyState, ApiKeyEvent> = {
  streamId: (id) => `apikey#${id}`,
  schema: ApiKeyEvent,
  initial: initialApiKeyState,
  evolve: evolveApiKey,
};

export const keyrings: Aggregate<KeyringState, KeyringEvent> = {
  streamId: (accountId) => `keyring#${accountId}`,
  schema: KeyringEvent,
  initial: initialKeyringState,
  evolve: evolveKeyring,
};

export const emails: Aggregate<EmailState, EmailEvent> = {
  streamId: (hash) => `email#${hash}`,
  schema: EmailEvent,
  initial: initialEmailState,
  evolve: evolveEmail,
};

export interface Loaded<S, E> {
  state: S;
  version: number;
  events: Array<{ stored: StoredEvent; event: E }>;
}

/**
 * Parses a stored event with the aggregate's schema. A stored event that does not parse is a
 * defect (a shipped schema was edited without an upcaster) and throws.
 */
export const parseEvent = <S, E>(aggregate: Aggregate<S, E>, stored: StoredEvent): E =>
  aggregate.schema.parse({ type: stored.type, data: stored.data });

/** Reads and folds one aggregate's stream. */
export async function load<S, E>(store: EventStore, aggregate: Aggregate<S, E>, id: string): Promise<Loaded<S, E>> {
  const { events, version } = await store.readStream(aggregate.streamId(id));
  let state = aggregate.initial();
  const parsed = events.map((stored) => {
    const event = parseEvent(aggregate, stored);
    state = aggregate.evolve(state, event);
    return { stored, event };
  });
  return { state, version, events: parsed };
}

/** Folds a list of new events onto a state (to answer with what was just decided). */
export const fold = <S, E>(aggregate: Aggregate<S, E>, state: S, events: E[]): S =>
  events.reduce(aggregate.evolve, state);

/** An account's webhook endpoints (`webhooks#<account id>`), keyed by the account id. */
export const webhookRegistries: Aggregate<WebhookRegistryState, WebhookEvent> = {
  streamId: (accountId) => `webhooks#${accountId}`,
  schema: WebhookEvent,
  initial: initialWebhookRegistry,
  evolve: evolveWebhookRegistry,
};

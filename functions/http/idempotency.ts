import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Deps } from '../deps';
import { ConcurrencyError } from '../adapters/event-store';
import { conflict, idempotencyKeyReuse, invalidRequest } from './problem';
import { logger } from '../logger';

/** How long a first response is replayed (API.md: 24 h). */
export const IDEMPOTENCY_TTL_SECONDS = 24 * 3600;
/**
 * How long a claim on a key blocks other requests with it. Longer than any request can run (API
 * Gateway gives up after 30 s), so a claim older than this belongs to a request that died; a retry
 * may then take the key over instead of being refused for a day.
 */
export const IDEMPOTENCY_LEASE_MS = 60_000;

/** API.md: 1–255 characters. Printable ASCII only, so it is safe to log and to compare. */
const KEY = /^[\x20-\x7e]{1,255}$/;

export interface ApiResponse {
  statusCode?: number;
  headers?: Record<string, string | number | boolean>;
  body?: string;
}

/** The claim a request holds on its key while it runs. */
export interface IdempotencyClaim {
  pk: string;
  sk: string;
  /** Only the request holding this token may complete or release the claim. */
  token: string;
  secret: Buffer;
}

/**
 * Whether a response is saved for replay. As Stripe does, a result is saved once the endpoint began
 * its work, including refusals that follow from the state it found (402, 404, 409 `conflict` on an
 * existing email, …), so a retry cannot turn a refusal into a success after the fact. Not saved, so
 * the same key may simply be retried: validation failures (400: nothing began), 429 (a quota that
 * frees up), a lost race (409 after the store's retries ran out) and 5xx (our defect, nothing written).
 */
export function isSaved(statusCode: number, error?: unknown): boolean {
  if (statusCode >= 500 || statusCode === 400 || statusCode === 429) return false;
  return !(error instanceof ConcurrencyError);
}

/** Canonical JSON (sorted keys), so a retry that orders its fields differently is the same body. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * The record lives in the views table under the caller's account (`idempotency#<account>`; signup
 * has none and uses `idempotency#anonymous`), keyed by a hash of the key. The saved response is
 * encrypted (AES-256-GCM) with a key derived from the Idempotency-Key itself, which is never
 * stored: a response can hold a secret shown once (an API key), and API.md promises only hashes of
 * those are kept. Whoever can present the Idempotency-Key again can read it, as the replay does.
 */
function recordKey(scope: string, key: string) {
  const sk = createHash('sha256').update(key).digest('hex');
  const secret = Buffer.from(hkdfSync('sha256', key, `idempotency#${scope}`, 'sx idempotent response v1', 32));
  return { pk: `idempotency#${scope}`, sk, secret };
}

function seal(secret: Buffer, response: ApiResponse): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', secret, iv);
  const sealed = Buffer.concat([cipher.update(JSON.stringify(response), 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString('base64');
}

function open(secret: Buffer, sealed: string): ApiResponse {
  const raw = Buffer.from(sealed, 'base64');
  const decipher = createDecipheriv('aes-256-gcm', secret, raw.subarray(0, 12));
  decipher.setAuthTag(raw.subarray(12, 28));
  return JSON.parse(Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8')) as ApiResponse;
}

/**
 * Claims `key` for this request, or answers from an earlier one with it.
 * @returns `{ claim }` to run the request (complete or release the claim afterwards), or
 *   `{ replay }`: the first request's saved response, to answer as is.
 * @throws HttpProblem 400 for a malformed key, 422 `idempotency_key_reuse` when the key was used
 *   with another method, path or body, 409 `conflict` while the first request is still running.
 */
export async function claimIdempotencyKey(
  deps: Pick<Deps, 'doc' | 'tables' | 'now'>,
  scope: string,
  key: string,
  request: { method: string; path: string; body: unknown },
): Promise<{ claim: IdempotencyClaim } | { replay: ApiResponse }> {
  if (!KEY.test(key)) {
    throw invalidRequest('The Idempotency-Key header must be 1 to 255 printable ASCII characters', [
      { path: 'Idempotency-Key', message: 'must be 1 to 255 printable ASCII characters' },
    ]);
  }
  const { pk, sk, secret } = recordKey(scope, key);
  const fingerprint = createHash('sha256').update(`${request.method} ${request.path}\n${canonical(request.body)}`).digest('hex');
  const nowMs = deps.now().getTime();
  const token = randomBytes(16).toString('hex');
  try {
    await deps.doc.send(
      new PutCommand({
        TableName: deps.tables.views,
        Item: {
          pk,
          sk,
          kind: 'idempotency',
          state: 'in_progress',
          fingerprint,
          token,
          leaseUntil: nowMs + IDEMPOTENCY_LEASE_MS,
          expiresAt: Math.floor(nowMs / 1000) + IDEMPOTENCY_TTL_SECONDS,
        },
        // Free, expired (TTL deletion lags by up to days), or abandoned by a request that died.
        ConditionExpression: 'attribute_not_exists(pk) OR expiresAt < :nowS OR (#state = :running AND leaseUntil < :nowMs)',
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: { ':nowS': Math.floor(nowMs / 1000), ':nowMs': nowMs, ':running': 'in_progress' },
      }),
    );
    return { claim: { pk, sk, token, secret } };
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
  }
  const { Item: existing } = await deps.doc.send(new GetCommand({ TableName: deps.tables.views, Key: { pk, sk }, ConsistentRead: true }));
  // Gone between the two calls (released by a failed first request): the client may simply retry.
  if (!existing) throw conflict('A request with this Idempotency-Key just finished without a saved result; retry it');
  if (existing.fingerprint !== fingerprint) {
    throw idempotencyKeyReuse('This Idempotency-Key was used with a different request (method, path or body) in the last 24 hours; use a new key');
  }
  if (existing.state !== 'completed') {
    const problem = conflict('A request with this Idempotency-Key is still in progress; retry it in a moment');
    Object.assign(problem.headers, { 'retry-after': '1' });
    throw problem;
  }
  const saved = open(secret, existing.response as string);
  return { replay: { ...saved, headers: { ...saved.headers, 'idempotent-replayed': 'true' } } };
}

/**
 * Saves the response of a claimed request for replay (when {@link isSaved} says so) or releases the
 * key so a retry runs afresh. A claim taken over meanwhile (its lease ran out) is left alone.
 * Never throws: the request's own answer matters more than the record; a failure is logged and
 * the claim simply runs out.
 */
export async function finishIdempotentRequest(
  deps: Pick<Deps, 'doc' | 'tables' | 'now'>,
  claim: IdempotencyClaim,
  response: ApiResponse,
  save: boolean,
): Promise<void> {
  const condition = { ConditionExpression: '#token = :token', ExpressionAttributeNames: { '#token': 'token' } };
  try {
    if (save) {
      await deps.doc.send(
        new UpdateCommand({
          TableName: deps.tables.views,
          Key: { pk: claim.pk, sk: claim.sk },
          UpdateExpression: 'SET #state = :completed, #response = :response, expiresAt = :expiresAt',
          ...condition,
          ExpressionAttributeNames: { ...condition.ExpressionAttributeNames, '#state': 'state', '#response': 'response' },
          ExpressionAttributeValues: {
            ':token': claim.token,
            ':completed': 'completed',
            ':response': seal(claim.secret, { statusCode: response.statusCode, headers: response.headers, body: response.body }),
            ':expiresAt': Math.floor(deps.now().getTime() / 1000) + IDEMPOTENCY_TTL_SECONDS,
          },
        }),
      );
    } else {
      await deps.doc.send(
        new DeleteCommand({ TableName: deps.tables.views, Key: { pk: claim.pk, sk: claim.sk }, ...condition, ExpressionAttributeValues: { ':token': claim.token } }),
      );
    }
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return;
    logger.error('could not finish an idempotent request', { error });
  }
}

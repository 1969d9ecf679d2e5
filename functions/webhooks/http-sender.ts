import { Webhook } from 'standardwebhooks';
import { Agent, request } from 'undici';
import { checkUrlShape, guardedLookup, type Resolve, type UrlGuardMode } from './url-guard';

/** One signed POST to a receiver. */
export interface WebhookRequest {
  url: string;
  /** `webhook-id`: the same on every attempt of one delivery, so the receiver can dedupe. */
  webhookId: string;
  body: string;
  /** Each signs (`v1,<sig>` space-separated): two while a rotated secret's predecessor overlaps. */
  secrets: string[];
  /** The attempt's time: `webhook-timestamp`, signed with the id and body. */
  now: Date;
  timeoutMs: number;
}

/** What one attempt got, as the delivery log shows it. */
export interface AttemptOutcome {
  statusCode: number | null;
  durationMs: number;
  /** Why it failed when there was no response (timeout, refused address, connection error), else null. */
  error: string | null;
  /** The receiver's `Retry-After` in seconds, when it sent one. */
  retryAfterSeconds: number | null;
  /** The start of the response body (for the delivery log), at most 1 KiB. */
  responseSnippet: string | null;
}

const SNIPPET_BYTES = 1024;

/**
 * The Standard Webhooks headers for a message, signed by the reference `standardwebhooks` library with
 * every given secret (the spec allows several space-separated signatures, which makes rotation seamless).
 */
export function signedHeaders(webhookId: string, body: string, secrets: string[], now: Date): Record<string, string> {
  const signature = secrets.map((secret) => new Webhook(secret).sign(webhookId, now, body)).join(' ');
  return {
    'content-type': 'application/json',
    'user-agent': 'suanxiang-cloud-webhooks/1',
    'webhook-id': webhookId,
    'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
    'webhook-signature': signature,
  };
}

/** `Retry-After` as seconds from now: delta-seconds or an HTTP date; null when absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined, now: Date): number | null {
  const raw = Array.isArray(value) ? value[0] : value;
  if (!raw) return null;
  if (/^\s*\d+\s*$/.test(raw)) return Number(raw);
  const at = Date.parse(raw);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - now.getTime()) / 1000));
}

/**
 * Sends webhooks over HTTP with undici: no redirects followed (a 3xx is a failed attempt), a hard
 * timeout for the whole exchange, and every connection through {@link guardedLookup}, so the address
 * connected to is one the SSRF guard accepted. Never throws: every failure is an outcome.
 */
export class WebhookHttpSender {
  private readonly agent: Agent;

  constructor(private readonly mode: UrlGuardMode, resolve?: Resolve) {
    this.agent = new Agent({ connect: { lookup: guardedLookup(mode, resolve), timeout: 10_000 }, keepAliveTimeout: 4_000 });
  }

  async send(req: WebhookRequest): Promise<AttemptOutcome> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    try {
      // Checked again on every attempt: an IP literal never reaches the lookup hook.
      checkUrlShape(req.url, this.mode);
      const response = await request(req.url, {
        method: 'POST',
        headers: signedHeaders(req.webhookId, req.body, req.secrets, req.now),
        body: req.body,
        dispatcher: this.agent,
        signal: AbortSignal.timeout(req.timeoutMs),
        headersTimeout: req.timeoutMs,
        bodyTimeout: req.timeoutMs,
      });
      const snippet = await readSnippet(response.body);
      return {
        statusCode: response.statusCode,
        durationMs: elapsed(),
        error: null,
        retryAfterSeconds: parseRetryAfter(response.headers['retry-after'], req.now),
        responseSnippet: snippet,
      };
    } catch (error) {
      return { statusCode: null, durationMs: elapsed(), error: describe(error, req.timeoutMs), retryAfterSeconds: null, responseSnippet: null };
    }
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}

async function readSnippet(body: AsyncIterable<Buffer> & { destroy(): void }): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= SNIPPET_BYTES) break;
  }
  body.destroy();
  const text = Buffer.concat(chunks).subarray(0, SNIPPET_BYTES).toString('utf8');
  return text === '' ? null : text;
}

function describe(error: unknown, timeoutMs: number): string {
  const e = error as { name?: string; code?: string; message?: string; cause?: { message?: string; code?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError' || /Timeout/i.test(e?.code ?? '')) return `timed out after ${timeoutMs} ms`;
  if (e?.name === 'UnsafeUrlError') return `refused: ${e.message}`;
  const cause = e?.cause?.message ? `: ${e.cause.message}` : '';
  return `${e?.code ? `${e.code} ` : ''}${e?.message ?? String(error)}${cause}`.slice(0, 500);
}

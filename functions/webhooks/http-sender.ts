import { Webhook } from 'standardwebhooks';
import { Agent as HttpAgent, request as httpRequest, type ClientRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
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
 * Sends webhooks with Node's own `node:http`/`node:https` (no HTTP library in the bundle): no redirects
 * followed (a 3xx is a failed attempt), one deadline for the whole exchange (DNS, connect, TLS,
 * headers and the snippet of the body), and every connection through {@link guardedLookup}, so the
 * address connected to is one the SSRF guard accepted. Idle connections are kept alive for a few
 * seconds per receiver, so a burst of deliveries to one endpoint reuses them. Never throws: every
 * failure is an outcome.
 */
export class WebhookHttpSender {
  private readonly http: HttpAgent;
  private readonly https: HttpsAgent;

  constructor(private readonly mode: UrlGuardMode, resolve?: Resolve) {
    // An agent's options go to `net.connect`/`tls.connect` too: every socket it opens resolves its
    // host through the guard. `timeout` on a keep-alive agent is how long a free socket idles before
    // it is closed: shorter than the usual 5 s server keep-alive, so we rarely reuse a socket the
    // receiver is closing.
    const agentOptions = { keepAlive: true, timeout: IDLE_SOCKET_MS, lookup: guardedLookup(mode, resolve) };
    this.http = new HttpAgent(agentOptions);
    this.https = new HttpsAgent(agentOptions);
  }

  async send(req: WebhookRequest): Promise<AttemptOutcome> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    const failed = (error: string): AttemptOutcome => ({ statusCode: null, durationMs: elapsed(), error, retryAfterSeconds: null, responseSnippet: null });
    let url: URL;
    try {
      // Checked again on every attempt: an IP literal never reaches the lookup hook.
      url = checkUrlShape(req.url, this.mode);
    } catch (error) {
      return failed(describe(error));
    }
    const secure = url.protocol === 'https:';
    const body = Buffer.from(req.body, 'utf8');
    return new Promise<AttemptOutcome>((settle) => {
      let done = false;
      let request: ClientRequest | undefined;
      // One timer for the whole exchange: Node's own `timeout` option only measures socket inactivity.
      const deadline = setTimeout(() => {
        finish(failed(`timed out after ${req.timeoutMs} ms`));
        request?.destroy();
      }, req.timeoutMs);
      function finish(outcome: AttemptOutcome) {
        if (done) return;
        done = true;
        clearTimeout(deadline);
        settle(outcome);
      }
      try {
        request = (secure ? httpsRequest : httpRequest)(url, {
          method: 'POST',
          headers: { ...signedHeaders(req.webhookId, req.body, req.secrets, req.now), 'content-length': String(body.length) },
          agent: secure ? this.https : this.http,
        });
      } catch (error) {
        return finish(failed(describe(error)));
      }
      // After `finish`, late errors (the destroy above, a reset) are expected and ignored.
      request.on('error', (error) => finish(failed(describe(error))));
      request.on('response', (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        const answered = () => {
          const text = Buffer.concat(chunks).subarray(0, SNIPPET_BYTES).toString('utf8');
          finish({
            statusCode: response.statusCode ?? null,
            durationMs: elapsed(),
            error: null,
            retryAfterSeconds: parseRetryAfter(response.headers['retry-after'], req.now),
            responseSnippet: text === '' ? null : text,
          });
        };
        response.on('data', (chunk: Buffer) => {
          chunks.push(chunk);
          size += chunk.length;
          // The log keeps 1 KiB: stop reading there (that socket is closed rather than reused).
          if (size >= SNIPPET_BYTES) {
            answered();
            response.destroy();
          }
        });
        response.on('end', answered);
        response.on('error', (error) => finish(failed(describe(error))));
        response.on('close', () => finish(failed('connection closed before the response ended')));
      });
      request.end(body);
    });
  }

  /** Closes the kept-alive connections. */
  async close(): Promise<void> {
    this.http.destroy();
    this.https.destroy();
  }
}

/** How long an idle kept-alive connection to a receiver stays open. */
const IDLE_SOCKET_MS = 4_000;

function describe(error: unknown): string {
  const e = error as { name?: string; code?: string; message?: string; cause?: { message?: string; code?: string } };
  if (e?.name === 'UnsafeUrlError') return `refused: ${e.message}`;
  const cause = e?.cause?.message ? `: ${e.cause.message}` : '';
  return `${e?.code ? `${e.code} ` : ''}${e?.message ?? String(error)}${cause}`.slice(0, 500);
}

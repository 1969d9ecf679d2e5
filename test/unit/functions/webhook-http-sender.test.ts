import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebhookHttpSender, type WebhookRequest } from '../../../functions/webhooks/http-sender';
import type { Resolve } from '../../../functions/webhooks/url-guard';

/**
 * The sender against real receivers on loopback (the local stack's allowance: `http://127.0.0.1:<port>`
 * and `localhost` through the guarded lookup). Every behaviour the delivery log and the retry schedule
 * depend on: status, snippet, Retry-After, no redirects, one deadline, keep-alive, the SSRF guard at
 * connection time on every resolved address, and TLS verification.
 */
const secret = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
const local = { allowLoopback: true };
const aws = { allowLoopback: false };

interface Hit {
  path: string;
  method: string;
  headers: IncomingMessage['headers'];
  body: string;
}
type Handler = (req: IncomingMessage, res: ServerResponse) => void;

const hits: Hit[] = [];
const handlers = new Map<string, Handler>();
let connections = 0;
const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    hits.push({ path: req.url ?? '/', method: req.method ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
    (handlers.get(req.url ?? '/') ?? ((_q, s) => s.end('ok')))(req, res);
  });
});
server.on('connection', () => connections++);
let base = '';

beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

let n = 0;
/** A fresh path with its behaviour. */
const path = (handler?: Handler) => {
  const p = `/p${n++}`;
  if (handler) handlers.set(p, handler);
  return p;
};
const attempt = (url: string, over: Partial<WebhookRequest> = {}): WebhookRequest => ({
  url,
  webhookId: 'msg_2kFq0000000000000000000001',
  body: JSON.stringify({ type: 'job.queued', timestamp: '2026-11-25T12:00:00.000Z', data: { n: 'ü' } }),
  secrets: [secret],
  now: new Date(),
  timeoutMs: 2_000,
  ...over,
});
const withSender = async <T>(fn: (s: WebhookHttpSender) => Promise<T>, mode = local, resolve?: Resolve): Promise<T> => {
  const sender = new WebhookHttpSender(mode, resolve);
  try {
    return await fn(sender);
  } finally {
    await sender.close();
  }
};

describe('the webhook HTTP sender (node:http)', () => {
  it('POSTs the signed body once and reports status, snippet and duration', async () => {
    const p = path((_q, s) => s.writeHead(202, { 'content-type': 'text/plain' }).end('accepted'));
    const req = attempt(`${base}${p}`);
    const outcome = await withSender((s) => s.send(req));
    expect(outcome).toMatchObject({ statusCode: 202, error: null, retryAfterSeconds: null, responseSnippet: 'accepted' });
    expect(outcome.durationMs).toBeGreaterThanOrEqual(0);
    const got = hits.filter((h) => h.path === p);
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({ method: 'POST', body: req.body });
    expect(got[0]!.headers['content-type']).toBe('application/json');
    expect(got[0]!.headers['content-length']).toBe(String(Buffer.byteLength(req.body)));
    expect(got[0]!.headers['webhook-id']).toBe(req.webhookId);
    expect(new Webhook(secret).verify(got[0]!.body, got[0]!.headers as Record<string, string>)).toMatchObject({ type: 'job.queued' });
  });

  it('keeps at most 1 KiB of the response, and null for an empty one', async () => {
    const big = path((_q, s) => s.end('x'.repeat(1024 * 1024)));
    const empty = path((_q, s) => s.writeHead(204).end());
    await withSender(async (s) => {
      const outcome = await s.send(attempt(`${base}${big}`));
      expect(outcome.statusCode).toBe(200);
      expect(outcome.responseSnippet).toBe('x'.repeat(1024));
      expect(await s.send(attempt(`${base}${empty}`))).toMatchObject({ statusCode: 204, responseSnippet: null, error: null });
    });
  });

  it('reads Retry-After, in seconds or as a date', async () => {
    const now = new Date('2026-11-25T12:00:00.000Z');
    const seconds = path((_q, s) => s.writeHead(503, { 'retry-after': '7' }).end('busy'));
    const date = path((_q, s) => s.writeHead(429, { 'retry-after': 'Wed, 25 Nov 2026 12:02:00 GMT' }).end());
    await withSender(async (s) => {
      expect(await s.send(attempt(`${base}${seconds}`, { now }))).toMatchObject({ statusCode: 503, retryAfterSeconds: 7, responseSnippet: 'busy' });
      expect(await s.send(attempt(`${base}${date}`, { now }))).toMatchObject({ statusCode: 429, retryAfterSeconds: 120 });
    });
  });

  it('does not follow a redirect: the 3xx is the outcome', async () => {
    const target = path();
    const moved = path((_q, s) => s.writeHead(307, { location: `${base}${target}` }).end());
    expect(await withSender((s) => s.send(attempt(`${base}${moved}`)))).toMatchObject({ statusCode: 307, error: null });
    expect(hits.filter((h) => h.path === target)).toHaveLength(0);
  });

  it('times out a receiver that never answers, one that stalls mid-body, and a lookup that never returns', async () => {
    const silent = path(() => undefined);
    const stalling = path((_q, s) => {
      s.writeHead(200);
      s.write('partial');
    });
    await withSender(async (s) => {
      for (const p of [silent, stalling]) {
        const outcome = await s.send(attempt(`${base}${p}`, { timeoutMs: 300 }));
        expect(outcome).toMatchObject({ statusCode: null, error: 'timed out after 300 ms', responseSnippet: null });
        // Ended by the timeout (the server never answers), so no upper bound on a busy machine's clock.
        expect(outcome.durationMs).toBeGreaterThanOrEqual(290);
      }
    });
    const never: Resolve = () => new Promise(() => undefined);
    const port = (server.address() as AddressInfo).port;
    const outcome = await withSender((s) => s.send(attempt(`http://localhost:${port}/`, { timeoutMs: 200 })), local, never);
    expect(outcome).toMatchObject({ statusCode: null, error: 'timed out after 200 ms' });
  });

  it('waits for a slow receiver up to the deadline, beyond the idle time of kept-alive sockets (4 s)', { timeout: 15_000 }, async () => {
    const slow = path((_q, s) => setTimeout(() => s.end('late'), 4_500));
    expect(await withSender((s) => s.send(attempt(`${base}${slow}`, { timeoutMs: 8_000 })))).toMatchObject({ statusCode: 200, responseSnippet: 'late' });
  });

  it('reuses one kept-alive connection for consecutive deliveries to a receiver', async () => {
    const p = path();
    const before = connections;
    await withSender(async (s) => {
      for (let i = 0; i < 3; i++) expect((await s.send(attempt(`${base}${p}`))).statusCode).toBe(200);
    });
    expect(connections - before).toBe(1);
  });

  it('reports a connection cut mid-response as an error without a status', async () => {
    const cut = path((_q, s) => {
      s.writeHead(200, { 'content-length': '100' });
      s.write('short');
      setTimeout(() => s.socket?.destroy(), 20);
    });
    const outcome = await withSender((s) => s.send(attempt(`${base}${cut}`)));
    expect(outcome).toMatchObject({ statusCode: null, responseSnippet: null });
    expect(outcome.error).toBeTruthy();
  });

  it('refuses at connection time when any resolved address is not public, before connecting', async () => {
    const port = (server.address() as AddressInfo).port;
    const before = connections;
    const mixed: Resolve = async () => [
      { address: '93.184.216.34', family: 4 },
      { address: '127.0.0.1', family: 4 },
    ];
    const outcome = await withSender((s) => s.send(attempt(`https://hooks.example.com:${port}/`)), aws, mixed);
    expect(outcome).toMatchObject({ statusCode: null, error: expect.stringMatching(/^refused: hooks\.example\.com resolved to 127\.0\.0\.1/) });
    // The local allowance covers the name `localhost` resolving to loopback, not another name doing so.
    const other = await withSender((s) => s.send(attempt(`https://hooks.example.com:${port}/`)), local, async () => [{ address: '127.0.0.1', family: 4 }]);
    expect(other.error).toMatch(/^refused/);
    expect(connections - before).toBe(0);
  });

  it('verifies TLS: an untrusted certificate fails the attempt, with the host name sent as SNI', async () => {
    const servernames: string[] = [];
    let requests = 0;
    const tls = createTlsServer({ key: KEY, cert: CERT, SNICallback: (name, cb) => (servernames.push(name), cb(null)) }, (_q, s) => {
      requests++;
      s.end('ok');
    });
    await new Promise<void>((r) => tls.listen(0, '127.0.0.1', r));
    try {
      const port = (tls.address() as AddressInfo).port;
      const outcome = await withSender((s) => s.send(attempt(`https://localhost:${port}/`)), local, async () => [{ address: '127.0.0.1', family: 4 }]);
      expect(outcome).toMatchObject({ statusCode: null, error: expect.stringMatching(/certificate/i) });
      expect(servernames).toEqual(['localhost']);
      expect(requests).toBe(0);
    } finally {
      tls.closeAllConnections();
      await new Promise((r) => tls.close(r));
    }
  });
});

/** A self-signed certificate for `localhost` (EC P-256, valid until 2126): trusted by nobody. */
const KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgiL68pZZuNQHPXt/S
ZJvivd8eUjn94+uwEiarcKqncoKhRANCAAQpH2EneFvlYK5JhpmyUfhevfxrm7iC
u2m21Bz6KlobtJBd8I1w6fx3Vz/9AW80yUXQLf0dXfo2L41C7iS5MmTh
-----END PRIVATE KEY-----`;
const CERT = `-----BEGIN CERTIFICATE-----
MIIBlDCCATugAwIBAgIUL1czGnM83ezfzfBrq5qzkBS884swCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJbG9jYWxob3N0MCAXDTI2MTEyNTE1Mjc1OFoYDzIxMjYxMTAx
MTUyNzU4WjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAAQpH2EneFvlYK5JhpmyUfhevfxrm7iCu2m21Bz6KlobtJBd8I1w6fx3
Vz/9AW80yUXQLf0dXfo2L41C7iS5MmTho2kwZzAdBgNVHQ4EFgQU7mGnP8nXFJWv
qJ33UMdFHLeyz9UwHwYDVR0jBBgwFoAU7mGnP8nXFJWvqJ33UMdFHLeyz9UwDwYD
VR0TAQH/BAUwAwEB/zAUBgNVHREEDTALgglsb2NhbGhvc3QwCgYIKoZIzj0EAwID
RwAwRAIgYzg31gtkOpwdcZR/qV1dmt2O3lmVIrVsZ56Dmd6uYwECIB4DVFoYAZkQ
I3eyQMwey4XOTrBwdFoOZ2SoduUKFfYh
-----END CERTIFICATE-----`;

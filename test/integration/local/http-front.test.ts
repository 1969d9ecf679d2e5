import { connect } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { APIGatewayProxyEventV2, APIGatewayRequestAuthorizerEventV2 } from 'aws-lambda';
import { HttpFront } from '../../../infra/local/http-front';
import { logger } from '../../../functions/logger';

let front: HttpFront | undefined;
afterEach(async () => {
  await front?.close();
  front = undefined;
});

async function serve(invoke: (event: APIGatewayProxyEventV2) => Promise<{ statusCode: number; headers?: Record<string, string>; body?: string }>) {
  front = new HttpFront([
    { method: 'POST', path: '/v1/things/{id}/poke', invoke },
    { method: 'GET', path: '/v1/things', invoke },
  ]);
  const port = await front.listen(0);
  return `http://127.0.0.1:${port}`;
}

describe('HttpFront (the local API Gateway)', () => {
  it('turns a request into an HTTP API payload 2.0 event and the result back into a response', async () => {
    let seen: APIGatewayProxyEventV2 | undefined;
    const url = await serve(async (event) => {
      seen = event;
      return { statusCode: 201, headers: { 'content-type': 'application/json', 'x-extra': 'yes' }, body: '{"ok":true}' };
    });
    const res = await fetch(`${url}/v1/things/t_1/poke?a=1&a=2&b=x`, { method: 'POST', headers: { 'X-Mixed-Case': 'v', 'content-type': 'application/json' }, body: '{"n":1}' });
    expect(res.status).toBe(201);
    expect(res.headers.get('x-extra')).toBe('yes');
    expect(await res.json()).toEqual({ ok: true });
    expect(seen).toMatchObject({
      version: '2.0',
      routeKey: 'POST /v1/things/{id}/poke',
      rawPath: '/v1/things/t_1/poke',
      rawQueryString: 'a=1&a=2&b=x',
      queryStringParameters: { a: '1,2', b: 'x' },
      pathParameters: { id: 't_1' },
      headers: { 'x-mixed-case': 'v', 'content-type': 'application/json' },
      body: '{"n":1}',
      isBase64Encoded: false,
      requestContext: { http: { method: 'POST', path: '/v1/things/t_1/poke' }, routeKey: 'POST /v1/things/{id}/poke', stage: '$default' },
    });
    expect(seen!.requestContext.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers an unknown route or method with a 404 problem, without invoking anything', async () => {
    let calls = 0;
    const url = await serve(async () => {
      calls++;
      return { statusCode: 200 };
    });
    for (const [method, path] of [['GET', '/v1/nothing'], ['DELETE', '/v1/things'], ['POST', '/v1/things/a/b/poke']]) {
      const res = await fetch(url + path, { method });
      expect(res.status).toBe(404);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect(((await res.json()) as { type: string }).type).toBe('not_found');
    }
    expect(calls).toBe(0);
  });

  it('refuses a body over API Gateway’s 10 MB with 413 before invoking', async () => {
    let calls = 0;
    const url = await serve(async () => {
      calls++;
      return { statusCode: 200 };
    });
    const res = await fetch(`${url}/v1/things/x/poke`, { method: 'POST', body: 'x'.repeat(10 * 1024 * 1024 + 1) });
    expect(res.status).toBe(413);
    expect(((await res.json()) as { type: string }).type).toBe('payload_too_large');
    expect(calls).toBe(0);
  });

  it('answers like API Gateway if a handler throws, leaking nothing', async () => {
    const url = await serve(async () => {
      throw new Error('secret internals');
    });
    const res = await fetch(`${url}/v1/things`);
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(text).toBe('{"message":"Internal Server Error"}');
  });

  describe('a request Node’s HTTP parser refuses, or one API Gateway would', () => {
    /** Sends raw bytes and reads until the server closes: status, headers and body. */
    async function raw(url: string, bytes: string) {
      const { port } = new URL(url);
      const socket = connect(Number(port), '127.0.0.1');
      const chunks: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
      socket.on('error', () => undefined);
      socket.write(bytes);
      await closed;
      const text = Buffer.concat(chunks).toString('latin1');
      const [head = '', body = ''] = text.split('\r\n\r\n');
      const [statusLine = '', ...lines] = head.split('\r\n');
      const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
      return { status: Number(statusLine.split(' ')[1]), headers, body: body ? (JSON.parse(body) as { type: string; status: number; request_id: string }) : null };
    }

    const get = (headers: string) => `GET /v1/things HTTP/1.1\r\nHost: x\r\n${headers}\r\n`;
    const cases: Array<[string, string, number, string]> = [
      ['a DEL byte in a header value', get('X-A: a\x7fb\r\n'), 400, 'invalid_request'],
      ['a DEL byte in a header name', get('X-\x7fA: b\r\n'), 400, 'invalid_request'],
      ['a NUL byte in a header value', get('X-A: a\x00b\r\n'), 400, 'invalid_request'],
      ['a method with a character no method has', 'G(T /v1/things HTTP/1.1\r\nHost: x\r\n\r\n', 400, 'invalid_request'],
      ['a method HTTP does not know', 'FROB /v1/things HTTP/1.1\r\nHost: x\r\n\r\n', 400, 'invalid_request'],
      ['a space in the target', 'GET /v1/th ings HTTP/1.1\r\nHost: x\r\n\r\n', 400, 'invalid_request'],
      ['an unknown HTTP version', 'GET /v1/things HTTP/9.1\r\nHost: x\r\n\r\n', 400, 'invalid_request'],
      ['bare LF line ends', 'GET /v1/things HTTP/1.1\nHost: x\n\n', 400, 'invalid_request'],
      ['two Content-Lengths', 'POST /v1/things/a/poke HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab', 400, 'invalid_request'],
      ['Content-Length with chunked', 'POST /v1/things/a/poke HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400, 'invalid_request'],
      ['no Host header', 'GET /v1/things HTTP/1.1\r\n\r\n', 400, 'invalid_request'],
      ['an absolute target that is not a URL', 'GET http://[ HTTP/1.1\r\nHost: x\r\n\r\n', 400, 'invalid_request'],
      ['headers over 16 KiB', get(`X-A: ${'a'.repeat(20_000)}\r\n`), 431, 'request_header_fields_too_large'],
      ['a TLS handshake on the plain port', '\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03', 400, 'invalid_request'],
    ];

    it.each(cases)('answers %s with a problem+json, invoking nothing', async (_what, bytes, status, type) => {
      let calls = 0;
      const url = await serve(async () => {
        calls++;
        return { statusCode: 200 };
      });
      const res = await raw(url, bytes);
      expect(res).toMatchObject({ status, headers: { 'content-type': 'application/problem+json' }, body: { type, status } });
      expect(res.body!.request_id).toBe(res.headers['x-request-id']);
      expect(calls).toBe(0);
      // The server still serves the next connection.
      expect((await fetch(`${url}/v1/things`)).status).toBe(200);
    });
  });

  it('finishes requests in flight when closed', async () => {
    let release: () => void = () => {};
    let invoked: () => void = () => {};
    const inHandler = new Promise<void>((resolve) => (invoked = resolve));
    const url = await serve(
      () =>
        new Promise((resolve) => {
          release = () => resolve({ statusCode: 200, body: 'late' });
          invoked();
        }),
    );
    const pending = fetch(`${url}/v1/things`).then((r) => r.text());
    // Closed once the request is in the handler (not after a guess at how long that takes).
    await inHandler;
    const closing = front!.close();
    release();
    await closing;
    expect(await pending).toBe('late');
    front = undefined;
  });

  describe('with a Lambda authorizer on a route', () => {
    type Authorize = (event: APIGatewayRequestAuthorizerEventV2) => Promise<{ isAuthorized: boolean; context?: Record<string, unknown> }>;
    async function serveAuthorized(authorize: Authorize) {
      const seen: APIGatewayProxyEventV2[] = [];
      const invoke = async (event: APIGatewayProxyEventV2) => {
        seen.push(event);
        return { statusCode: 200, body: 'ok' };
      };
      front = new HttpFront([
        { method: 'POST', path: '/v1/things/{id}/poke', invoke, authorize },
        { method: 'GET', path: '/v1/open', invoke },
      ]);
      return { url: `http://127.0.0.1:${await front.listen(0)}`, seen };
    }

    it("runs it first with API Gateway's REQUEST event and passes its context as requestContext.authorizer.lambda", async () => {
      const asked: APIGatewayRequestAuthorizerEventV2[] = [];
      const { url, seen } = await serveAuthorized(async (event) => {
        asked.push(event);
        return { isAuthorized: true, context: { auth: 'key', outcome: 'allowed', accountId: 'acct_1', keyId: 'key_1' } };
      });
      const res = await fetch(`${url}/v1/things/t_1/poke?a=1`, { method: 'POST', headers: { Authorization: 'Bearer sk_x' }, body: '{"n":1}' });
      expect(res.status).toBe(200);
      expect(asked).toHaveLength(1);
      expect(asked[0]).toMatchObject({
        version: '2.0',
        type: 'REQUEST',
        routeKey: 'POST /v1/things/{id}/poke',
        rawPath: '/v1/things/t_1/poke',
        rawQueryString: 'a=1',
        headers: { authorization: 'Bearer sk_x' },
        pathParameters: { id: 't_1' },
        requestContext: { http: { method: 'POST' }, requestId: seen[0]!.requestContext.requestId },
      });
      expect(asked[0]).not.toHaveProperty('body');
      expect((seen[0]!.requestContext as unknown as { authorizer: unknown }).authorizer).toEqual({ lambda: { auth: 'key', outcome: 'allowed', accountId: 'acct_1', keyId: 'key_1' } });
    });

    it('does not run it for a route without one', async () => {
      let calls = 0;
      const { url, seen } = await serveAuthorized(async () => {
        calls++;
        return { isAuthorized: true };
      });
      expect((await fetch(`${url}/v1/open`)).status).toBe(200);
      expect(calls).toBe(0);
      expect(seen[0]!.requestContext).not.toHaveProperty('authorizer');
    });

    it("answers a refusal 403 and a throw 500 with API Gateway's bodies, never invoking the route", async () => {
      vi.spyOn(logger, 'error').mockImplementation(() => undefined);
      let refuse = true;
      const { url, seen } = await serveAuthorized(async () => {
        if (refuse) return { isAuthorized: false };
        throw new Error('authorizer crashed');
      });
      const refused = await fetch(`${url}/v1/things/t_1/poke`, { method: 'POST' });
      expect([refused.status, await refused.text()]).toEqual([403, '{"message":"Forbidden"}']);
      refuse = false;
      const crashed = await fetch(`${url}/v1/things/t_1/poke`, { method: 'POST' });
      expect([crashed.status, await crashed.text()]).toEqual([500, '{"message":"Internal Server Error"}']);
      expect(seen).toHaveLength(0);
      vi.restoreAllMocks();
    });
  });
});

import { randomUUID } from 'node:crypto';
import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, APIGatewayRequestAuthorizerEventV2 } from 'aws-lambda';
import { logger } from '../../functions/logger';

/** API Gateway HTTP APIs refuse payloads over 10 MB before any Lambda runs; so do we. */
const GATEWAY_MAX_BODY = 10 * 1024 * 1024;

export interface LocalRoute {
  method: string;
  path: string;
  invoke: (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;
  /**
   * The route's Lambda authorizer (simple responses, payload 2.0, no identity source, no cache),
   * for the routes that have one in CDK. Run before `invoke`, like API Gateway: `isAuthorized: false`
   * is API Gateway's 403, a throw its 500; otherwise its `context` reaches the handler as
   * `requestContext.authorizer.lambda`.
   */
  authorize?: (event: APIGatewayRequestAuthorizerEventV2) => Promise<{ isAuthorized: boolean; context?: Record<string, unknown> }>;
}

/** One answer as it left the front, for an observer (the tests check each against the OpenAPI document). */
export interface ObservedExchange {
  method: string;
  path: string;
  status: number;
  headers: Record<string, string>;
  body: string;
}

const compile = (path: string) =>
  new RegExp(`^${path.replace(/\{(\w+)\}/g, (_m, name: string) => `(?<${name}>[^/]+)`)}$`);

/**
 * The local stand-in for API Gateway (HTTP API, payload format 2.0): turns each request into the
 * event API Gateway would send and the handler's result back into a response.
 */
export class HttpFront {
  private readonly server: Server;
  private readonly routes: Array<LocalRoute & { pattern: RegExp }>;
  private readonly inFlight = new Set<Promise<void>>();

  /**
   * @param assets what answers a GET or HEAD outside `/v1/` that no route takes (the web console,
   *   as CloudFront's default behaviour does in AWS); `null` from it is a 404.
   */
  constructor(
    routes: LocalRoute[],
    private readonly assets?: (path: string) => Promise<APIGatewayProxyStructuredResultV2 | null>,
    private readonly observe?: (exchange: ObservedExchange) => void,
  ) {
    this.routes = routes.map((r) => ({ ...r, pattern: compile(r.path) }));
    // Node answers a request without Host itself, with a bare 400: `serve` answers it as a problem.
    this.server = createServer({ requireHostHeader: false }, (req, res) => {
      const done = this.serve(req, res).finally(() => this.inFlight.delete(done));
      this.inFlight.add(done);
    });
    this.server.on('clientError', answerClientError);
    this.server.keepAliveTimeout = 5_000;
  }

  /** Listens on 127.0.0.1 and resolves with the bound port (0 picks a free one). */
  listen(port: number, host = '127.0.0.1'): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => resolve((this.server.address() as AddressInfo).port));
    });
  }

  /** Stops taking requests and waits for those in flight. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    await Promise.allSettled([...this.inFlight]);
    // Every request has been answered: kept-alive connections would otherwise hold close() open.
    this.server.closeAllConnections();
    await closed;
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = randomUUID();
    try {
      // API Gateway refuses these before any route; an absolute-form target such as `http://[` would not parse.
      const malformed =
        req.httpVersion === '1.1' && req.headers.host === undefined ? 'An HTTP/1.1 request needs a Host header' : null;
      const url = URL.parse(req.url ?? '/', 'http://localhost');
      if (malformed !== null || url === null) {
        req.resume();
        res.shouldKeepAlive = false;
        return send(res, gatewayProblem(400, 'invalid_request', 'Invalid request', requestId, malformed ?? 'The request target is not a valid path or URL'));
      }
      const match = this.match(req.method ?? 'GET', url.pathname);
      const body = await readBody(req);
      if (body === null) return this.reply(req, url.pathname, res, gatewayProblem(413, 'payload_too_large', 'Payload too large', requestId));
      if (!match && this.assets && (req.method === 'GET' || req.method === 'HEAD') && !url.pathname.startsWith('/v1/')) {
        const asset = await this.assets(url.pathname);
        if (asset) return this.reply(req, url.pathname, res, asset, req.method === 'HEAD');
      }
      if (!match) return this.reply(req, url.pathname, res, gatewayProblem(404, 'not_found', `No route ${req.method} ${url.pathname}`, requestId));
      const event = toEvent(req, url, body, match.route, match.params, requestId);
      if (match.route.authorize) {
        let result: Awaited<ReturnType<NonNullable<LocalRoute['authorize']>>>;
        try {
          result = await match.route.authorize(toAuthorizerEvent(event));
        } catch (error) {
          // API Gateway answers an authorizer that fails with a bare 500 and never calls the route.
          logger.error('authorizer failed', { requestId, authorizer: true, error });
          return this.reply(req, url.pathname, res, gatewayMessage(500, 'Internal Server Error'));
        }
        if (!result.isAuthorized) return this.reply(req, url.pathname, res, gatewayMessage(403, 'Forbidden'));
        // What API Gateway passes on from a simple response: the context under `lambda`.
        event.requestContext = { ...event.requestContext, authorizer: { lambda: result.context ?? {} } } as typeof event.requestContext;
      }
      this.reply(req, url.pathname, res, await match.route.invoke(event));
    } catch (error) {
      // A handler must never throw (middy turns errors into problems); if one does, answer like API Gateway.
      logger.error('handler threw', { requestId, error });
      this.reply(req, (req.url ?? '/').split('?')[0]!, res, gatewayMessage(500, 'Internal Server Error'));
    }
  }

  /** Sends an answer, after showing it to the observer (if any). */
  private reply(req: IncomingMessage, path: string, res: ServerResponse, result: APIGatewayProxyStructuredResultV2, headOnly = false) {
    if (this.observe) {
      const body = result.body ?? '';
      this.observe({
        method: req.method ?? 'GET',
        path,
        status: result.statusCode ?? 200,
        headers: Object.fromEntries(Object.entries(result.headers ?? {}).map(([k, v]) => [k.toLowerCase(), String(v)])),
        body: result.isBase64Encoded ? Buffer.from(body, 'base64').toString('utf8') : body,
      });
    }
    send(res, result, headOnly);
  }

  private match(method: string, path: string) {
    for (const route of this.routes) {
      if (route.method !== method) continue;
      const found = route.pattern.exec(path);
      if (found) return { route, params: { ...found.groups } as Record<string, string> };
    }
    return null;
  }
}

async function readBody(req: IncomingMessage): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > GATEWAY_MAX_BODY) return null;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function toEvent(
  req: IncomingMessage,
  url: URL,
  body: Buffer,
  route: LocalRoute,
  params: Record<string, string>,
  requestId: string,
): APIGatewayProxyEventV2 {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(',') : value;
  }
  const query: Record<string, string> = {};
  for (const [name, value] of url.searchParams) query[name] = name in query ? `${query[name]},${value}` : value;
  const now = new Date();
  const routeKey = `${route.method} ${route.path}`;
  return {
    version: '2.0',
    routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    ...(Object.keys(query).length ? { queryStringParameters: query } : {}),
    ...(Object.keys(params).length ? { pathParameters: params } : {}),
    requestContext: {
      accountId: 'local',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: 'localhost',
      http: {
        method: route.method,
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId,
      routeKey,
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    ...(body.length ? { body: body.toString('utf8') } : {}),
    isBase64Encoded: false,
  };
}

/**
 * The event API Gateway sends a REQUEST authorizer (payload 2.0) for a route's request: the request
 * as the route will see it, `type` and `routeArn` added, no body, and no `identitySource` (there is none).
 */
function toAuthorizerEvent(event: APIGatewayProxyEventV2): APIGatewayRequestAuthorizerEventV2 {
  const { body: _body, isBase64Encoded: _encoded, ...request } = event;
  const { http } = event.requestContext;
  return {
    ...request,
    type: 'REQUEST',
    routeArn: `arn:aws:execute-api:local:local:local/$default/${http.method}${event.rawPath}`,
    identitySource: [],
  } as APIGatewayRequestAuthorizerEventV2;
}

/** API Gateway's own answers (not problem+json): `{"message":"Forbidden"}` and the like. */
const gatewayMessage = (statusCode: number, message: string): APIGatewayProxyStructuredResultV2 => ({
  statusCode,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ message }),
});

function gatewayProblem(status: number, type: string, title: string, requestId: string, detail?: string): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode: status,
    headers: { 'content-type': 'application/problem+json', 'x-request-id': requestId },
    body: JSON.stringify({ type, title, status, ...(detail === undefined ? {} : { detail }), request_id: requestId }),
  };
}

/** The problem for a request Node's parser refused, by llhttp's error code (see `answerClientError`). */
function clientErrorProblem(code: string | undefined): { status: number; type: string; title: string; detail: string } {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return { status: 431, type: 'request_header_fields_too_large', title: 'Request header fields too large', detail: 'The request line and headers are limited to 16 KiB' };
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return { status: 413, type: 'payload_too_large', title: 'Payload too large', detail: 'Chunk extensions are too large' };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { status: 408, type: 'request_timeout', title: 'Request timeout', detail: 'The request did not arrive in time' };
    case 'HPE_INVALID_METHOD':
      return { status: 400, type: 'invalid_request', title: 'Invalid request', detail: 'The request method is malformed or not an HTTP method' };
    case 'HPE_INVALID_HEADER_TOKEN':
      return { status: 400, type: 'invalid_request', title: 'Invalid request', detail: 'A header name or value contains a character HTTP does not allow (a control character such as DEL or NUL)' };
    default:
      return { status: 400, type: 'invalid_request', title: 'Invalid request', detail: 'The request is not well-formed HTTP/1.1' };
  }
}

/**
 * What Node's HTTP server does with a request its parser refuses (a DEL byte in a header, a malformed
 * method, oversize headers, a bad version, conflicting lengths …): by default it writes a bare 400 (431,
 * 408) without a body. The local stack answers with the same status as a problem, written on the
 * socket, since no `ServerResponse` exists for such a request, then closes the connection: what follows
 * on it cannot be framed. Nothing is written once a response on this connection has begun.
 */
function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  const current = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage;
  if (error.code === 'ECONNRESET' || !socket.writable || current?.headersSent) {
    socket.destroy();
    return;
  }
  const requestId = randomUUID();
  const { status, type, title, detail } = clientErrorProblem(error.code);
  const body = JSON.stringify({ type, title, status, detail, request_id: requestId });
  const head = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}`,
    'content-type: application/problem+json',
    `content-length: ${Buffer.byteLength(body)}`,
    `x-request-id: ${requestId}`,
    'connection: close',
  ];
  socket.end(`${head.join('\r\n')}\r\n\r\n${body}`, () => socket.destroy());
}

function send(res: ServerResponse, result: APIGatewayProxyStructuredResultV2, headOnly = false) {
  const body = result.body ?? '';
  res.writeHead(result.statusCode ?? 200, {
    ...(result.headers as Record<string, string>),
    'content-length': Buffer.byteLength(body, result.isBase64Encoded ? 'base64' : 'utf8'),
  });
  if (headOnly) return void res.end();
  res.end(result.isBase64Encoded ? Buffer.from(body, 'base64') : body);
}

import { Readable } from 'node:stream';

/** One HTTP request exactly as an AWS SDK client serialized and signed it. */
export interface RecordedRequest {
  method: string;
  /** The path without the query string, e.g. `/v1/submitjob`. */
  path: string;
  query: Record<string, string | string[] | null>;
  headers: Record<string, string>;
  /** The body as sent (JSON for Batch, Lambda and Service Quotas; form-encoded for EC2). */
  body: string;
}

/** The answer the service gives: status, body as the service's wire format, and its content type. */
export interface RecordedResponse {
  status?: number;
  body: string;
  contentType?: string;
}

/**
 * An SDK `requestHandler` that sends nothing: every request the client makes is recorded after the
 * SDK has serialized it (so tests see the real request the service would get, field names and all),
 * and answered from `respond` in the service's own wire format (so the SDK's real deserializer runs).
 * Give it to a client: `new BatchClient({ region, credentials, requestHandler: recorder.handler })`.
 */
export function recordingHandler(respond: (request: RecordedRequest) => RecordedResponse) {
  const requests: RecordedRequest[] = [];
  const handler = {
    metadata: { handlerProtocol: 'h1' },
    async handle(request: { method: string; path: string; query?: Record<string, string | string[] | null>; headers: Record<string, string>; body?: unknown }) {
      const recorded: RecordedRequest = {
        method: request.method,
        path: request.path,
        query: request.query ?? {},
        headers: request.headers,
        body: await bodyText(request.body),
      };
      requests.push(recorded);
      const answer = respond(recorded);
      return {
        response: {
          statusCode: answer.status ?? 200,
          reason: undefined,
          headers: { 'content-type': answer.contentType ?? 'application/json', 'x-amzn-requestid': `req-${requests.length}` },
          body: Readable.from([Buffer.from(answer.body)]),
        },
      };
    },
    updateHttpClientConfig() {},
    httpHandlerConfigs: () => ({}),
    destroy() {},
  };
  return { handler, requests };
}

async function bodyText(body: unknown): Promise<string> {
  if (body === undefined || body === null) return '';
  if (typeof body === 'string') return body;
  if (body instanceof Uint8Array) return new TextDecoder().decode(body);
  if (typeof (body as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function') {
    const chunks: Buffer[] = [];
    for await (const chunk of body as AsyncIterable<Buffer | string>) chunks.push(Buffer.from(chunk));
    return Buffer.concat(chunks).toString('utf8');
  }
  return String(body);
}

/** Credentials for clients that sign requests nobody checks. */
export const testCredentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };

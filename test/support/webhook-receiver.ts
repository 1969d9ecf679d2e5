import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

/** A real receiver on loopback: each path behaves as its test says, and every request is kept. */
export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}
export type Behaviour = (count: number, req: Received) => { status: number; headers?: Record<string, string> };

export class Receiver {
  readonly requests: Received[] = [];
  private readonly behaviours = new Map<string, Behaviour>();
  private readonly server: Server;
  port = 0;

  /** @param tls a key and certificate to serve HTTPS with (plain HTTP without). */
  constructor(private readonly tls?: { key: Buffer; cert: Buffer }) {
    const handle = (req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const received = { path: req.url ?? '/', headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() };
        this.requests.push(received);
        const count = this.requests.filter((r) => r.path === received.path).length;
        const { status, headers } = (this.behaviours.get(received.path) ?? ((): ReturnType<Behaviour> => ({ status: 200 })))(count, received);
        res.writeHead(status, headers).end(status < 300 ? 'ok' : 'no');
      });
    };
    this.server = tls ? createHttpsServer(tls, handle) : createServer(handle);
  }

  async start() {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }
  /** A fresh path on this receiver with its behaviour. */
  route(behaviour: Behaviour = () => ({ status: 200 })): { url: string; path: string; got: () => Received[] } {
    const path = `/hook/${randomBytes(4).toString('hex')}`;
    this.behaviours.set(path, behaviour);
    return { url: `${this.tls ? 'https' : 'http'}://127.0.0.1:${this.port}${path}`, path, got: () => this.requests.filter((r) => r.path === path) };
  }
  close() {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(resolve));
  }
}


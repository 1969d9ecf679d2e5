import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface StackProcess {
  url: string;
  /** The DynamoDB Local the stack started, as it printed it. */
  dynamoEndpoint: string;
  dataDir: string;
  /** The process id of the stack (the node process running main.ts). */
  pid: number;
  output: () => string;
  /** SIGTERM, then waits for the exit; resolves with the exit code. Removes the data dir unless it was given. */
  stop(): Promise<number | null>;
  /** Sends `signal` (e.g. SIGKILL to simulate a crash) and waits for the exit; keeps the data dir. */
  kill(signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Ctrl-C: SIGINT to the whole process group (needs `processGroup`); resolves with the exit. Keeps the data dir. */
  interrupt(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface StackProcessOptions {
  /** Run on this data directory (e.g. again after a crash); it is then left in place. @default a new temp dir */
  dataDir?: string;
  /** Run it as a terminal runs a command: in a process group of its own, so {@link StackProcess.interrupt} is Ctrl-C. */
  processGroup?: boolean;
}

/**
 * Request limits with room for tests and benchmarks, which sign up many accounts, send many
 * requests with one key and try many bad keys, all from 127.0.0.1 (the limits have their own tests).
 */
export const ROOMY_RATE_LIMITS = {
  perKey: { limit: 1_000_000, windowSeconds: 60 },
  signupsPerSource: { limit: 1_000_000, windowSeconds: 60 },
  failedAuthPerSource: { limit: 1_000_000, windowSeconds: 60 },
};
const ROOMY_LIMITS = {
  SX_REQUESTS_PER_KEY_PER_MINUTE: String(ROOMY_RATE_LIMITS.perKey.limit),
  SX_SIGNUPS_PER_SOURCE_PER_HOUR: String(ROOMY_RATE_LIMITS.signupsPerSource.limit),
  SX_FAILED_AUTH_PER_SOURCE_PER_5_MINUTES: String(ROOMY_RATE_LIMITS.failedAuthPerSource.limit),
};

/**
 * For tests and benchmarks (with room in the request limits unless `env` sets them). Starts the local stack exactly as `npm start` does (infra/local/main.ts), on a free port and a
 * fresh data directory, and resolves once it prints its URL.
 */
export async function startStackProcess(env: Record<string, string> = {}, options: StackProcessOptions = {}): Promise<StackProcess> {
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'sx-e2e-')));
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'infra/local/main.ts'], {
    // Tests and benchmarks sign up many accounts and try many bad keys from 127.0.0.1: room for them.
    env: { ...process.env, PORT: '0', SX_DATA_DIR: dataDir, ...ROOMY_LIMITS, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: options.processGroup ?? false,
  });
  let output = '';
  const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const exited = ended.then(({ code }) => code);
  const [url, dynamoEndpoint] = await new Promise<[string, string]>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`local stack did not start:\n${output}`)), 60_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const found = /ready at (http:\/\/\S+)[\s\S]*DynamoDB Local: (http:\/\/\S+)/.exec(output);
      if (found) {
        clearTimeout(timer);
        resolve([found[1]!, found[2]!]);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then((code) => reject(new Error(`local stack exited (${code}):\n${output}`)));
  });
  return {
    url,
    dynamoEndpoint,
    dataDir,
    pid: child.pid!,
    output: () => output,
    stop: async () => {
      child.kill('SIGTERM');
      const code = await exited;
      if (options.dataDir === undefined) await rm(dataDir, { recursive: true, force: true });
      return code;
    },
    kill: async (signal) => {
      child.kill(signal);
      return ended;
    },
    interrupt: async () => {
      if (!options.processGroup) throw new Error('interrupt() needs a stack started with processGroup: true');
      process.kill(-child.pid!, 'SIGINT');
      return ended;
    },
  };
}

/** A tiny API client for tests: JSON in, status and JSON (or text) out. */
export function apiClient(baseUrl: string, apiKey?: string) {
  const request = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(baseUrl + path, {
      method,
      headers: {
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    const type = res.headers.get('content-type') ?? '';
    return { status: res.status, type, body: type.includes('json') ? JSON.parse(text) : text };
  };
  return {
    get: (path: string) => request('GET', path),
    post: (path: string, body?: unknown, headers?: Record<string, string>) => request('POST', path, body, headers),
    request,
  };
}

/** Polls `check` until it returns a value, or fails after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined | null | false>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

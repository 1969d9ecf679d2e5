import pc from 'picocolors';
import { isFinal, type Job, type SxClient } from '../sdk/client';
import { duration, money, status as colourStatus } from './format';
import { lastValues, latestMetrics } from './metrics';

/** Exit codes of `sx run` (documented in the README and `sx run --help`). */
export const EXIT = { succeeded: 0, failed: 1, usage: 2, cancelled: 130, detached: 0 } as const;

/**
 * The exit code that mirrors how a job ended: 0 succeeded; a job that exited non-zero gives its own
 * exit code (as `docker run` does); any other failure 1; cancelled 130 (as after Ctrl-C).
 */
export function exitCodeFor(job: Pick<Job, 'status' | 'failure_reason' | 'exit_code'>): number {
  if (job.status === 'succeeded') return EXIT.succeeded;
  if (job.status === 'cancelled') return EXIT.cancelled;
  if (job.failure_reason === 'non_zero_exit' && job.exit_code && job.exit_code > 0 && job.exit_code < 256) return job.exit_code;
  return EXIT.failed;
}

/** How often `sx run`'s live line reads the job's metrics. */
const METRICS_EVERY_MS = 3_000;

/** The live status line: state, elapsed, GPU-seconds used, cost so far, held time left, the latest metrics (`loss 1.82`). */
export function statusLine(job: Job, now = Date.now(), metrics = ''): string {
  const running = job.status === 'running' && job.started_at;
  const since = job.started_at ?? job.created_at;
  const end = job.finished_at ? Date.parse(job.finished_at) : now;
  const elapsed = (end - Date.parse(since)) / 1000;
  const ranSeconds = job.started_at ? (end - Date.parse(job.started_at)) / 1000 : 0;
  const cost = job.usage.cost.amount > 0 || job.usage.trial_gpu_seconds === 0 ? money(job.usage.cost) : `${money(job.usage.cost)} (trial)`;
  const parts = [
    `${running ? pc.cyan('●') : isFinal(job) ? '■' : pc.dim('○')} ${colourStatus(job.status)}`,
    duration(elapsed),
    `${job.usage.gpu_seconds} GPU·s`,
    cost,
  ];
  if (!isFinal(job)) parts.push(`held ${duration(Math.max(0, job.held_seconds - ranSeconds))} left`);
  if (metrics) parts.push(pc.bold(metrics));
  return `${parts.join(pc.dim('  ·  '))}  ${pc.dim(job.id)}`;
}

export interface FollowOptions {
  /** Stream the job's log (to stdout; to stderr with `json`). */
  logs: boolean;
  /** Live status line (a TTY); otherwise one line per status change on stderr. */
  live: boolean;
  /** Logs go to stderr and nothing but the final job (as JSON) to stdout. */
  json: boolean;
  /** On SIGINT/SIGTERM cancel the job without asking. */
  cancelOnInterrupt: boolean;
  /** Ask before cancelling on Ctrl-C (stdin is a TTY). */
  interactive: boolean;
  intervalMs: number;
}

/**
 * Follows a job to its end: its log below (or above, scrolling) a live status line, and returns the
 * exit code that mirrors the job ({@link exitCodeFor}). Interrupts:
 * - interactive (a TTY): Ctrl-C asks whether to cancel the job; yes cancels it and follows it to
 *   its end, no leaves it running and returns at once (exit 0);
 * - `cancelOnInterrupt`: SIGINT or SIGTERM cancels it without asking and follows it to its end;
 * - otherwise (scripts, CI): the first SIGINT only says how to cancel, a second one cancels, and
 *   SIGTERM leaves the job running and returns 143.
 * A third interrupt after a cancel was asked for returns 130 at once.
 */
export async function followJob(client: SxClient, first: Job, options: FollowOptions): Promise<number> {
  const out = process.stdout;
  const err = process.stderr;
  const logOut = options.json ? err : out;
  // Loaded only when used: together they are a good part of sx's start-up time, which scripts pay on every call.
  const live = options.live ? (await import('log-update')).createLogUpdate(out) : undefined;
  let job = first;
  let partial = '';
  let lastStatus = '';
  let prompting = false;
  let cancelAsked = false;
  let interrupts = 0;
  let leave: number | undefined;
  const stop = new AbortController();
  // Closes an open prompt when the job ends while the user is still deciding.
  const promptAbort = new AbortController();

  const say = (text: string) => {
    if (live) live.persist(text);
    else err.write(`${text}\n`);
  };
  let metrics = '';
  let metricsReadAt = 0;
  const render = () => {
    if (live && !prompting) live(statusLine(job, Date.now(), metrics));
  };
  const printLogs = (text: string, final: boolean) => {
    if (!options.logs) return;
    partial += text;
    if (!partial) return;
    // Whole lines only, so the status line never overwrites half a line; the rest at the end.
    const cut = final ? partial.length : partial.lastIndexOf('\n') + 1;
    if (cut === 0) return;
    const lines = partial.slice(0, cut);
    partial = partial.slice(cut);
    if (live) live.persist(lines.replace(/\n$/, ''));
    else logOut.write(lines.endsWith('\n') || !final ? lines : `${lines}\n`);
  };
  const cancel = async () => {
    if (cancelAsked) return;
    cancelAsked = true;
    say(pc.yellow(`sx: cancelling ${job.id}…`));
    try {
      job = await client.jobs.cancel(job.id);
    } catch (error) {
      // A job that ended meanwhile cannot be cancelled; following it shows how it ended.
      say(pc.dim(`sx: ${error instanceof Error ? error.message : String(error)}`));
    }
  };
  const detach = (code: number, why: string) => {
    say(`sx: ${why}: ${job.id} keeps running. Follow it with: sx jobs logs -f ${job.id}   cancel it with: sx jobs cancel ${job.id}`);
    leave = code;
    stop.abort();
  };

  const onInterrupt = async (signal: 'SIGINT' | 'SIGTERM') => {
    interrupts++;
    if (cancelAsked) {
      if (interrupts >= 3) detach(EXIT.cancelled, 'interrupted');
      return;
    }
    if (options.cancelOnInterrupt) return cancel();
    if (signal === 'SIGTERM') return detach(143, 'terminated');
    if (options.interactive) {
      if (prompting) return;
      prompting = true;
      live?.clear();
      try {
        const { default: confirm } = await import('@inquirer/confirm');
        const yes = await confirm(
          { message: `Cancel job ${job.id}? (No leaves it running)`, default: false },
          { signal: promptAbort.signal },
        );
        prompting = false;
        if (yes) await cancel();
        else detach(EXIT.detached, 'detached');
      } catch {
        prompting = false;
        // A second Ctrl-C at the prompt leaves without cancelling; an aborted prompt means the job ended.
        if (!promptAbort.signal.aborted) detach(EXIT.cancelled, 'interrupted');
      }
      return;
    }
    if (interrupts === 1) say(`sx: interrupt again to cancel ${job.id} (it keeps running otherwise; sx keeps following it)`);
    else await cancel();
  };
  // Without a live line, each status change is a line of its own (the final one is the summary).
  // The first comes from the submission's answer, so it never depends on how fast polling is.
  const reportStatus = () => {
    if (job.status !== lastStatus && !live && !isFinal(job)) {
      err.write(`sx: ${job.id} ${job.status}${job.status === 'queued' ? ` (${job.gpu_count}× ${job.gpu_type}, held ${duration(job.held_seconds)})` : ''}\n`);
    }
    lastStatus = job.status;
  };
  reportStatus();
  const sigint = () => void onInterrupt('SIGINT');
  const sigterm = () => void onInterrupt('SIGTERM');
  process.on('SIGINT', sigint);
  process.on('SIGTERM', sigterm);
  const ticker = live ? setInterval(render, 500) : undefined;

  try {
    for await (const update of client.jobs.follow(job.id, { intervalMs: options.intervalMs, signal: stop.signal })) {
      if (leave !== undefined) break;
      job = update.job;
      reportStatus();
      printLogs(update.newLogs, isFinal(job));
      // The latest value of each metric, on the live line: read every few seconds while it runs, and once at the end.
      if (live && job.started_at && (isFinal(job) || Date.now() - metricsReadAt >= METRICS_EVERY_MS)) {
        metricsReadAt = Date.now();
        metrics = lastValues(await latestMetrics(client, job.id));
      }
      render();
    }
  } catch (error) {
    if (leave === undefined) throw error;
  } finally {
    promptAbort.abort();
    if (ticker) clearInterval(ticker);
    process.off('SIGINT', sigint);
    process.off('SIGTERM', sigterm);
  }
  if (leave !== undefined) {
    live?.done();
    return leave;
  }
  printLogs('', true);
  if (live) {
    live(statusLine(job, Date.now(), metrics));
    live.done();
  }
  err.write(`${summary(job)}\n`);
  if (options.json) out.write(`${JSON.stringify(job, null, 2)}\n`);
  return exitCodeFor(job);
}

/** The last line of `sx run`: how the job ended, what it used, and where its output is. */
function summary(job: Job): string {
  const ran = job.started_at && job.finished_at ? duration((Date.parse(job.finished_at) - Date.parse(job.started_at)) / 1000) : '0s';
  const paid = job.usage.cost.amount > 0 ? money(job.usage.cost) : job.usage.trial_gpu_seconds > 0 ? 'paid by the trial' : money(job.usage.cost);
  const why = job.failure_reason ? ` (${job.failure_reason}${job.exit_code !== null ? `, exit code ${job.exit_code}` : ''})` : '';
  const output = job.output_uri ? `; output: ${job.output_uri}` : '';
  return `sx: ${job.id} ${colourStatus(job.status)}${why} after ${ran} · ${job.usage.gpu_seconds} GPU·s · ${paid}${output}`;
}

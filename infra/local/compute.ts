import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { constants } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

import type { BatchJobStateChange, BatchJobStatus } from '../../events/batch-state-change';
import {
  COMPUTE_ATTEMPTS,
  type Capacity,
  type CapacityPool,
  type Compute,
  type ComputeJobSpec,
  type DescribedJob,
  type JobFiles,
} from '../../functions/adapters/compute';
import { PLATFORM_SHUTDOWN_REASON, TIMEOUT_REASON } from '../../domain/job/decide';

/** The account and region the local stand-in reports in its events (LocalStack's dummy account). */
export const LOCAL_ACCOUNT = '000000000000';
export const LOCAL_REGION = 'local';
const JOB_QUEUE_ARN = `arn:aws:batch:${LOCAL_REGION}:${LOCAL_ACCOUNT}:job-queue/sx-local-gpu`;

/** Batch's own wording (defined beside the decider that reads it), so the events cannot tell the local backend from Batch. */
export { TIMEOUT_REASON };
export const SHUTDOWN_REASON = PLATFORM_SHUTDOWN_REASON;
const EXITED_REASON = 'Essential container in task exited';
const TOO_BIG_REASON =
  'MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT - job needs more GPUs than the local pool has';

/** The only host variables a job sees: anything else (API keys, AWS credentials) must not leak. */
const HOST_ENV_KEYS = ['PATH', 'HOME', 'LANG'] as const;

/** Job ids become directory names, so only plain names are accepted (no `/`, no `..`). */
const SAFE_JOB_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/**
 * How long a job's end waits for the rest of its process group to die after SIGKILL. Usually a few
 * ms; the cap is for processes stuck in the kernel, or zombies under an init that never reaps them.
 */
const GROUP_EXIT_WAIT_MS = 500;

/** How often the backend notes that it is alive (what a job that died with the stack is billed up to). */
const HEARTBEAT_MS = 1_000;
/** The journal of one compute job, beside its outputs: `<dataDir>/jobs/<jobId>/batch-job.json`. */
const JOURNAL_FILE = 'batch-job.json';

/** setTimeout fires at once for delays above this (about 24.8 days), so longer waits are chained. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export type BatchJobDetail = BatchJobStateChange['detail'];

/** Options of {@link LocalCompute}. */
export interface LocalComputeOptions {
  /** Where job directories live: `<dataDir>/jobs/<jobId>/{output,checkpoints,logs.txt}`. */
  dataDir: string;
  /** Size of the simulated GPU pool. @default 8 */
  gpus?: number;
  /**
   * Receives every state change, synchronously and in order for each job. It should only queue
   * the event; a throw is logged and otherwise ignored.
   */
  onEvent: (event: BatchJobStateChange) => void;
  /** Clock for the times in the events, epoch milliseconds. @default Date.now */
  now?: () => number;
}

export type { DescribedJob };

/** The status reason of an attempt lost with its host, in Batch's words (what its retry strategy matches). */
export const hostLostReason = (gpu: number) => `Host EC2 (instance i-local${String(gpu).padStart(13, '0')}) terminated.`;

/** vCPUs the local pool reports per simulated GPU (a p4d's 96 over its 8 GPUs). */
const VCPUS_PER_GPU = 12;

/** An attempt that ended and was retried, as Batch lists it in `attempts`. */
interface PastAttempt {
  startedAt?: number;
  stoppedAt: number;
  exitCode?: number;
  statusReason: string;
}

/** How a job ended, kept to build its final event. */
interface JobEnd {
  status: 'SUCCEEDED' | 'FAILED';
  statusReason: string;
  stoppedAt: number;
  exitCode?: number;
  containerReason?: string;
  /** Whether a start was tried: Batch lists an attempt only then. */
  attempted: boolean;
}

interface LocalJob {
  readonly spec: ComputeJobSpec;
  readonly batchJobId: string;
  readonly jobArn: string;
  readonly createdAt: number;
  status: BatchJobStatus;
  /** The `detail` of the latest event; set by the SUBMITTED event, before `submit` returns. */
  lastDetail?: BatchJobDetail;
  /** Indexes of the simulated GPUs it holds while starting or running. */
  gpus: number[];
  process?: ChildProcess;
  startedAt?: number;
  /** Why it is being stopped (timeout, terminate, shutdown); the first reason wins. */
  stopReason?: string;
  sigtermSent: boolean;
  /** Cancels the pending timeout and SIGKILL timers. */
  timers: Array<() => void>;
  /** Attempts that ended and were retried, oldest first. */
  pastAttempts: PastAttempt[];
  /** Set when the current attempt's host is lost ({@link LocalCompute.interrupt}): its status reason. */
  hostLost?: string;
  /** Process group of the current attempt, kept in the journal so a restarted stack can kill it. */
  pid?: number;
  end?: JobEnd;
  readonly finished: Promise<void>;
  markFinished: () => void;
}

/** What the journal keeps of a job: enough to describe it, keep `submit` idempotent and pick it up after a crash. */
interface JournalEntry {
  spec: ComputeJobSpec;
  batchJobId: string;
  createdAt: number;
  status: BatchJobStatus;
  lastDetail?: BatchJobDetail;
  gpus: number[];
  pid?: number;
  startedAt?: number;
  stopReason?: string;
  pastAttempts: PastAttempt[];
  end?: JobEnd;
}

/** What {@link LocalCompute.recover} found and did. */
export interface ComputeRecovery {
  /** Jobs known from the journal (finished ones included, so `describe` and `submit` remember them). */
  known: number;
  /** Jobs that had not started and were put back in line. */
  requeued: number;
  /** Attempts that were starting or running when the stack died: retried, or failed after the last attempt. */
  lostAttempts: number;
  /** Jobs being stopped (cancel, timeout, shutdown) when the stack died, now FAILED with that reason. */
  stopped: number;
  /** Leftover job processes (of attempts the stack lost) that were killed. */
  killedProcesses: number;
}

/**
 * The local stand-in for AWS Batch: runs each job's `command` as a host process (no container; the
 * image is only recorded) on a fixed pool of simulated GPUs, first come first served, and reports
 * progress as the same "Batch Job State Change" events Batch sends to EventBridge.
 *
 * Every process runs in its own process group, so signals (timeout, terminate, shutdown) reach its
 * children too, and whatever is left of the group is killed when the job's main process exits, as
 * when a container stops. A process that leaves its group on purpose (`setsid`) escapes this.
 */
export class LocalCompute implements Compute, JobFiles, Capacity {
  private readonly dataDir: string;
  private readonly poolSize: number;
  private readonly onEvent: (event: BatchJobStateChange) => void;
  private readonly now: () => number;

  private readonly byJobId = new Map<string, LocalJob>();
  private readonly byBatchJobId = new Map<string, LocalJob>();
  /** Jobs waiting for GPUs, in submission order. */
  private queue: LocalJob[] = [];
  /** Jobs starting or running: each has (or had) a process. */
  private readonly active = new Set<LocalJob>();
  /** Free GPU indexes, kept sorted so jobs get the lowest ones, like a real node's device order. */
  private freeGpus: number[];
  private pumping = false;
  private stopping = false;
  /** What the capacity projection last asked for; the local pool itself has a fixed size. */
  private sizing = { minvCpus: 0, desiredvCpus: 0 };
  private stopHeartbeat?: () => void;

  constructor(options: LocalComputeOptions) {
    this.dataDir = resolve(options.dataDir);
    this.poolSize = options.gpus ?? 8;
    this.onEvent = options.onEvent;
    this.now = options.now ?? Date.now;
    this.freeGpus = Array.from({ length: this.poolSize }, (_, index) => index);
  }

  /**
   * Submits a job unless one named `spec.jobId` already exists (in any state), in which case its id
   * is returned and nothing else happens. Emits SUBMITTED and RUNNABLE, then starts the job as soon
   * as the GPUs it needs are free and every job submitted before it has started. A job needing more
   * GPUs than the pool has is FAILED at once. Resolves without waiting for the job to start.
   *
   * Rejects (without emitting anything) after {@link stop}, for a job id that is not a plain file
   * name, or when the job's directories cannot be created.
   */
  async submit(spec: ComputeJobSpec): Promise<{ batchJobId: string }> {
    const existing = this.byJobId.get(spec.jobId);
    if (existing) return { batchJobId: existing.batchJobId };
    if (this.stopping) throw new Error('LocalCompute is stopped: it accepts no new jobs');

    // Synchronous on purpose: the job is registered before any await, so a concurrent submit of
    // the same jobId finds it.
    const dir = this.jobDir(spec.jobId);
    mkdirSync(join(dir, 'output'), { recursive: true });
    mkdirSync(join(dir, 'checkpoints'), { recursive: true });

    const job = this.register(spec);
    this.emit(job, 'SUBMITTED');
    this.emit(job, 'RUNNABLE');
    if (spec.gpuCount > this.poolSize) {
      this.finish(job, { status: 'FAILED', statusReason: TOO_BIG_REASON, attempted: false });
    } else {
      this.queue.push(job);
      this.pump();
    }
    return { batchJobId: job.batchJobId };
  }

  /**
   * Stops a job. A waiting job leaves the queue and is FAILED with `reason`. A starting or running
   * job gets SIGTERM (its whole process group), SIGKILL after its `graceSeconds`, and its final
   * event is FAILED with `reason` whatever its exit code, as Batch reports terminated jobs.
   * A finished or unknown job, or a second call, changes nothing. Never rejects.
   */
  async terminate(batchJobId: string, reason: string): Promise<void> {
    const job = this.byBatchJobId.get(batchJobId);
    if (!job || job.end) return;
    if (this.queue.includes(job)) {
      this.queue = this.queue.filter((queued) => queued !== job);
      this.finish(job, { status: 'FAILED', statusReason: reason, attempted: false });
      return;
    }
    this.requestStop(job, reason, job.spec.graceSeconds);
  }

  /** The job's combined stdout and stderr so far; '' before it starts or for an unknown job. */
  async readLogs(jobId: string): Promise<string> {
    try {
      return await readFile(join(this.jobDir(jobId), 'logs.txt'), 'utf8');
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return '';
      throw error;
    }
  }

  /** The `file://` URL of the job's output directory, with a trailing slash. */
  outputUri(jobId: string): string {
    return pathToFileURL(join(this.jobDir(jobId), 'output') + '/').href;
  }

  /**
   * For reconciliation, like Batch `DescribeJobs`: the current status and the `detail` of the
   * latest event of each known job, in the order asked. Unknown ids are left out.
   */
  async describe(batchJobIds: string[]): Promise<DescribedJob[]> {
    return batchJobIds.flatMap((batchJobId) => {
      const detail = this.byBatchJobId.get(batchJobId)?.lastDetail;
      return detail ? [{ batchJobId, status: detail.status, detail: structuredClone(detail) }] : [];
    });
  }

  /**
   * Local-only fault injection: the current attempt of a running job loses its host, as in a Spot
   * reclaim. Its processes are killed at once (no SIGTERM: the host is gone), the attempt ends with
   * Batch's `Host EC2 (instance …) terminated.`, and, like Batch's retry strategy, the job goes back
   * to the queue (ahead of jobs submitted after it) for another attempt with the same job id,
   * checkpoint directory and timeout, up to {@link COMPUTE_ATTEMPTS} attempts in all; after the
   * last it is FAILED with that reason. A job not running, or already being stopped, is left alone.
   * @returns whether an attempt was interrupted.
   */
  interrupt(batchJobId: string): boolean {
    const job = this.byBatchJobId.get(batchJobId);
    const pid = job?.process?.pid;
    if (!job || job.end || job.startedAt === undefined || pid === undefined || job.stopReason !== undefined || job.hostLost) return false;
    job.hostLost = hostLostReason(job.gpus[0] ?? 0);
    signalGroup(pid, 'SIGKILL');
    return true;
  }

  /** The local pool as one on-demand compute environment of `gpus × 12` vCPUs. */
  async pools(): Promise<CapacityPool[]> {
    return [{ name: 'sx-local-gpu', market: 'on-demand', maxvCpus: this.poolSize * VCPUS_PER_GPU, ...this.sizing }];
  }

  /** Records the sizes asked for (the local pool's GPUs are all there all the time). */
  async resize(_name: string, target: { minvCpus: number; desiredvCpus?: number }): Promise<void> {
    this.sizing = { minvCpus: target.minvCpus, desiredvCpus: Math.max(this.sizing.desiredvCpus, target.desiredvCpus ?? 0, target.minvCpus) };
  }

  /** How many simulated GPUs are held by starting or running jobs. */
  runningGpus(): number {
    return this.poolSize - this.freeGpus.length;
  }

  /** The `jobId`s of the jobs waiting for GPUs, first in line first. */
  queuedJobs(): string[] {
    return this.queue.map((job) => job.spec.jobId);
  }

  /**
   * Shuts the backend down: refuses new jobs, fails waiting jobs and terminates running ones with
   * reason 'Local stack shutting down' (SIGTERM, SIGKILL after `graceSeconds`). Resolves once every
   * process has exited and its final event was emitted. Safe to call more than once.
   */
  async stop({ graceSeconds }: { graceSeconds: number }): Promise<void> {
    this.stopping = true;
    this.stopHeartbeat?.();
    const waiting = this.queue;
    this.queue = [];
    for (const job of waiting) {
      this.finish(job, { status: 'FAILED', statusReason: SHUTDOWN_REASON, attempted: false });
    }
    const running = [...this.active];
    for (const job of running) this.requestStop(job, SHUTDOWN_REASON, graceSeconds);
    await Promise.all(running.map((job) => job.finished));
  }

  /**
   * Picks up where a crashed (SIGKILLed) stack left off; call it once, before the first `submit`,
   * with the event consumer ready. Every job in the journal is known again, so `describe` reports
   * it and a second `submit` of it returns its id. Leftover processes of the jobs (found by the
   * `SX_OUTPUT_DIR` in their environment under /proc, or by the journaled process group where
   * there is no /proc) are SIGKILLed first: they cannot be watched or signalled as our children
   * any more, and must not run on unaccounted. Then, like Batch's retry strategy after a lost
   * host, an attempt that was starting or running ended with `Host EC2 (…) terminated.` when the
   * stack was last known alive (its heartbeat) and the job goes back in line for its next attempt,
   * with its checkpoint directory; after the last attempt it is FAILED. A job being stopped
   * (cancel, timeout) is FAILED with that reason; a job that had not started is back in line.
   * Starts the heartbeat. A journal that cannot be read is logged and skipped.
   */
  async recover(): Promise<ComputeRecovery> {
    const now = this.now();
    const lastAlive = this.readHeartbeat();
    this.startHeartbeat();
    const entries = this.readJournals().sort((a, b) => a.createdAt - b.createdAt);
    const report: ComputeRecovery = { known: entries.length, requeued: 0, lostAttempts: 0, stopped: 0, killedProcesses: 0 };
    report.killedProcesses = await this.killLeftovers(entries.filter((entry) => !entry.end));
    const jobs: LocalJob[] = [];
    /** The first GPU each lost attempt held, for the instance id in its status reason. */
    const firstGpu = new Map<LocalJob, number>();
    for (const entry of entries) {
      const job = this.register(entry.spec, entry.batchJobId, entry.createdAt);
      job.status = entry.status;
      job.lastDetail = entry.lastDetail;
      job.pastAttempts = entry.pastAttempts;
      job.startedAt = entry.startedAt;
      job.stopReason = entry.stopReason;
      firstGpu.set(job, entry.gpus[0] ?? 0);
      if (entry.end) {
        job.end = entry.end;
        job.markFinished();
      } else jobs.push(job);
    }
    for (const job of jobs) {
      const attempted = job.status === 'STARTING' || job.status === 'RUNNING';
      // Billed up to the last sign of life of the stack: what ran after it was unsupervised.
      const stoppedAt = Math.min(now, Math.max(lastAlive ?? now, job.startedAt ?? 0));
      if (job.stopReason !== undefined) {
        report.stopped++;
        this.finish(job, { status: 'FAILED', statusReason: job.stopReason, stoppedAt, attempted });
      } else if (attempted) {
        report.lostAttempts++;
        const reason = hostLostReason(firstGpu.get(job) ?? 0);
        if (job.pastAttempts.length + 1 >= COMPUTE_ATTEMPTS) {
          this.finish(job, { status: 'FAILED', statusReason: reason, stoppedAt, attempted: true });
        } else {
          job.pastAttempts.push({ startedAt: job.startedAt, stoppedAt, statusReason: reason });
          job.startedAt = undefined;
          this.emit(job, 'RUNNABLE');
          this.queue.push(job);
        }
      } else if (job.spec.gpuCount > this.poolSize) {
        // The pool was made smaller since (SX_GPUS): the job can never start.
        this.finish(job, { status: 'FAILED', statusReason: TOO_BIG_REASON, attempted: false });
      } else {
        report.requeued++;
        if (job.status === 'SUBMITTED') this.emit(job, 'RUNNABLE');
        this.queue.push(job);
      }
    }
    this.pump();
    return report;
  }

  private readJournals(): JournalEntry[] {
    const jobsDir = join(this.dataDir, 'jobs');
    let names: string[];
    try {
      names = readdirSync(jobsDir);
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return [];
      throw error;
    }
    return names.flatMap((name) => {
      const file = join(jobsDir, name, JOURNAL_FILE);
      try {
        return [JSON.parse(readFileSync(file, 'utf8')) as JournalEntry];
      } catch (error) {
        // No journal: the stack died inside `submit`, before anything was promised for this job.
        if (!isErrno(error, 'ENOENT')) console.error(`local compute: cannot read ${file}:`, error);
        return [];
      }
    });
  }

  /** SIGKILLs what is left of unfinished jobs and waits (briefly) until it is gone; returns how many processes. */
  private async killLeftovers(unfinished: JournalEntry[]): Promise<number> {
    const marker = `SX_OUTPUT_DIR=${join(this.dataDir, 'jobs')}/`;
    const pids = new Set<number>();
    const scanned = scanProcesses((environ) => environ.some((entry) => entry.startsWith(marker)));
    if (scanned) scanned.forEach((pid) => pids.add(pid));
    for (const entry of unfinished) {
      if (entry.pid === undefined) continue;
      // With /proc, a recorded group is only ours if its leader is gone or still carries our marker
      // (a pid reused by an unrelated process after a reboot must be left alone).
      if (!scanned || scanned.has(entry.pid) || !processExists(entry.pid)) {
        if (groupExists(entry.pid)) signalGroup(entry.pid, 'SIGKILL');
      }
    }
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Gone already.
      }
    }
    const deadline = Date.now() + 2_000;
    while ([...pids].some(processExists) && Date.now() < deadline) await sleep(10);
    return pids.size;
  }

  private startHeartbeat(): void {
    const file = join(this.dataDir, 'heartbeat');
    mkdirSync(this.dataDir, { recursive: true });
    const beat = () => {
      try {
        writeFileSync(file, String(this.now()));
      } catch (error) {
        console.error('local compute: cannot write the heartbeat:', error);
      }
    };
    beat();
    const timer = setInterval(beat, HEARTBEAT_MS);
    timer.unref();
    this.stopHeartbeat = () => clearInterval(timer);
  }

  private readHeartbeat(): number | undefined {
    try {
      const value = Number(readFileSync(join(this.dataDir, 'heartbeat'), 'utf8'));
      return Number.isFinite(value) && value > 0 ? value : undefined;
    } catch {
      return undefined;
    }
  }

  /** Writes the job's journal entry (a whole new file renamed over the old one, so a crash leaves one or the other). */
  private persist(job: LocalJob): void {
    const file = join(this.jobDir(job.spec.jobId), JOURNAL_FILE);
    const entry: JournalEntry = {
      spec: job.spec,
      batchJobId: job.batchJobId,
      createdAt: job.createdAt,
      status: job.status,
      lastDetail: job.lastDetail,
      gpus: job.gpus,
      pid: job.pid,
      startedAt: job.startedAt,
      stopReason: job.stopReason,
      pastAttempts: job.pastAttempts,
      end: job.end,
    };
    try {
      writeFileSync(`${file}.tmp`, JSON.stringify(entry));
      renameSync(`${file}.tmp`, file);
    } catch (error) {
      console.error(`local compute: cannot write the journal of job ${job.spec.jobId}:`, error);
    }
  }

  private register(spec: ComputeJobSpec, batchJobId: string = randomUUID(), createdAt: number = this.now()): LocalJob {
    let markFinished = (): void => {};
    const finished = new Promise<void>((resolveFinished) => {
      markFinished = resolveFinished;
    });
    const job: LocalJob = {
      spec,
      batchJobId,
      jobArn: `arn:aws:batch:${LOCAL_REGION}:${LOCAL_ACCOUNT}:job/${batchJobId}`,
      createdAt,
      status: 'SUBMITTED',
      gpus: [],
      sigtermSent: false,
      timers: [],
      pastAttempts: [],
      finished,
      markFinished,
    };
    this.byJobId.set(spec.jobId, job);
    this.byBatchJobId.set(batchJobId, job);
    return job;
  }

  /** Starts waiting jobs strictly in order while the head of the queue fits in the free GPUs. */
  private pump(): void {
    // A start that fails at once finishes the job and calls back here; the loop below already
    // re-reads the free GPUs, so the nested call has nothing to do.
    if (this.pumping) return;
    this.pumping = true;
    try {
      for (let head = this.queue[0]; head; head = this.queue[0]) {
        if (this.stopping || head.spec.gpuCount > this.freeGpus.length) return;
        this.queue.shift();
        head.gpus = this.freeGpus.splice(0, head.spec.gpuCount);
        this.start(head);
      }
    } finally {
      this.pumping = false;
    }
  }

  private start(job: LocalJob): void {
    this.emit(job, 'STARTING');
    this.trackActive(job);
    const dir = this.jobDir(job.spec.jobId);
    const [file, ...args] = job.spec.command;
    let logFd: number | undefined;
    let child: ChildProcess;
    try {
      if (file === undefined) throw new Error('the job has no command');
      // The processes write straight into the file (nothing of ours buffers it), so the log is
      // complete once the job's process group is gone; our copy of the descriptor is closed
      // right after the spawn.
      logFd = openSync(join(dir, 'logs.txt'), 'a');
      child = spawn(file, args, {
        cwd: dir,
        detached: true,
        env: this.environment(job),
        stdio: ['ignore', logFd, logFd],
      });
    } catch (error) {
      this.cannotStart(job, error);
      return;
    } finally {
      if (logFd !== undefined) closeSync(logFd);
    }
    job.process = child;
    // Journaled before anything else can happen, so a crash from here on leaves a pid to kill.
    job.pid = child.pid;
    this.persist(job);
    child.once('spawn', () => this.onRunning(job));
    // Before 'spawn' an error means the process never started (ENOENT, EACCES, a missing cwd).
    // We never signal through the ChildProcess, so later errors cannot happen; log them anyway.
    child.on('error', (error) => {
      if (job.startedAt === undefined) this.cannotStart(job, error);
      else console.error(`local compute: job ${job.spec.jobId}:`, error);
    });
    child.once('exit', (code, signal) => this.onExit(job, code, signal));
  }

  private onRunning(job: LocalJob): void {
    job.startedAt = this.now();
    this.emit(job, 'RUNNING');
    // Terminated while starting: the SIGTERM is already out and the timeout no longer matters.
    if (job.stopReason !== undefined) return;
    const onTimeout = (): void => this.requestStop(job, TIMEOUT_REASON, job.spec.graceSeconds);
    job.timers.push(setLongTimeout(onTimeout, job.spec.timeoutSeconds * 1000));
  }

  private onExit(job: LocalJob, code: number | null, signal: NodeJS.Signals | null): void {
    const exitCode = code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0);
    if (job.hostLost !== undefined && job.stopReason === undefined) {
      this.hostLost(job, exitCode, job.hostLost);
      return;
    }
    // Decided now: a terminate arriving while the group dies must not rewrite how the job ended.
    const end: JobEnd = {
      status: exitCode === 0 && job.stopReason === undefined ? 'SUCCEEDED' : 'FAILED',
      statusReason: job.stopReason ?? EXITED_REASON,
      stoppedAt: this.now(),
      exitCode,
      attempted: true,
    };
    // Like a container whose essential process ended: nothing it started may outlive it. The
    // final event waits for those processes to be gone, as they may still write to the log.
    const pid = job.process?.pid;
    signalGroup(pid, 'SIGKILL');
    void untilGroupGone(pid).then(() => this.finish(job, end));
  }

  /** The attempt's host is gone: retry it like Batch's strategy does, or fail the job after the last attempt. */
  private hostLost(job: LocalJob, exitCode: number, reason: string): void {
    const stoppedAt = this.now();
    const pid = job.process?.pid;
    job.hostLost = undefined;
    if (job.pastAttempts.length + 1 >= COMPUTE_ATTEMPTS || this.stopping) {
      signalGroup(pid, 'SIGKILL');
      void untilGroupGone(pid).then(() => this.finish(job, { status: 'FAILED', statusReason: reason, stoppedAt, exitCode, attempted: true }));
      return;
    }
    job.pastAttempts.push({ startedAt: job.startedAt, stoppedAt, exitCode, statusReason: reason });
    for (const cancel of job.timers) cancel();
    job.timers = [];
    job.process = undefined;
    job.pid = undefined;
    job.startedAt = undefined;
    job.sigtermSent = false;
    this.freeGpus = [...this.freeGpus, ...job.gpus].sort((a, b) => a - b);
    job.gpus = [];
    this.untrackActive(job);
    void untilGroupGone(pid).then(() => {
      if (job.end) return;
      // Terminated (or the stack stopped) between attempts: there is nothing left to run.
      if (job.stopReason !== undefined || this.stopping) {
        this.finish(job, { status: 'FAILED', statusReason: job.stopReason ?? SHUTDOWN_REASON, attempted: false });
        return;
      }
      this.emit(job, 'RUNNABLE');
      // Back in line by submission time: a retry does not lose its place to jobs submitted after it.
      const at = this.queue.findIndex((queued) => queued.createdAt > job.createdAt);
      this.queue.splice(at === -1 ? this.queue.length : at, 0, job);
      this.pump();
    });
  }

  private cannotStart(job: LocalJob, error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    const containerReason = `CannotStartContainerError: ${message}`;
    this.finish(job, {
      status: 'FAILED',
      statusReason: job.stopReason ?? containerReason,
      containerReason,
      attempted: true,
    });
  }

  /** SIGTERM to the job's process group once, then SIGKILL after `graceSeconds`. */
  private requestStop(job: LocalJob, reason: string, graceSeconds: number): void {
    if (job.end) return;
    if (job.stopReason === undefined) {
      job.stopReason = reason;
      // A crash now must not turn a cancel or timeout into a retry.
      this.persist(job);
    }
    const pid = job.process?.pid;
    // No pid: the spawn failed and its 'error' handler is about to finish the job.
    if (pid === undefined) return;
    if (!job.sigtermSent) {
      job.sigtermSent = true;
      signalGroup(pid, 'SIGTERM');
    }
    // Each request arms its own SIGKILL, so a shorter grace (shutdown) still wins over a longer one.
    job.timers.push(setLongTimeout(() => signalGroup(pid, 'SIGKILL'), graceSeconds * 1000));
  }

  /** Makes the job final: frees its GPUs, emits its last event and lets the next jobs start. */
  private finish(job: LocalJob, end: Omit<JobEnd, 'stoppedAt'> & { stoppedAt?: number }): void {
    if (job.end) return;
    job.end = { ...end, stoppedAt: end.stoppedAt ?? this.now() };
    for (const cancel of job.timers) cancel();
    job.timers = [];
    this.freeGpus = [...this.freeGpus, ...job.gpus].sort((a, b) => a - b);
    job.gpus = [];
    this.untrackActive(job);
    this.emit(job, end.status);
    job.markFinished();
    this.pump();
  }

  /**
   * Detached processes outlive the Node process that started them, so while any job runs a
   * process 'exit' hook SIGKILLs them all: a crashed or exited local stack leaks nothing.
   */
  private trackActive(job: LocalJob): void {
    if (this.active.size === 0) process.on('exit', this.killAll);
    this.active.add(job);
  }

  private untrackActive(job: LocalJob): void {
    if (!this.active.delete(job)) return;
    if (this.active.size === 0) process.off('exit', this.killAll);
  }

  private readonly killAll = (): void => {
    for (const job of this.active) signalGroup(job.process?.pid, 'SIGKILL');
  };

  private environment(job: LocalJob): Record<string, string> {
    const env: Record<string, string> = {};
    for (const key of HOST_ENV_KEYS) {
      const value = process.env[key];
      if (value !== undefined) env[key] = value;
    }
    const dir = this.jobDir(job.spec.jobId);
    return {
      ...env,
      ...job.spec.env,
      SX_JOB_ID: job.spec.jobId,
      SX_OUTPUT_DIR: join(dir, 'output'),
      SX_CHECKPOINT_DIR: join(dir, 'checkpoints'),
      SX_GPU_COUNT: String(job.spec.gpuCount),
      // As Batch sets it in the container: 1 for the first attempt.
      AWS_BATCH_JOB_ATTEMPT: String(job.pastAttempts.length + 1),
      NVIDIA_VISIBLE_DEVICES: job.gpus.join(','),
    };
  }

  private jobDir(jobId: string): string {
    if (!SAFE_JOB_ID.test(jobId)) throw new Error(`Not a usable job id: ${JSON.stringify(jobId)}`);
    return join(this.dataDir, 'jobs', jobId);
  }

  /** Records the new status and hands the event to `onEvent`, whose failures must not stop us. */
  private emit(job: LocalJob, status: BatchJobStatus): void {
    job.status = status;
    const detail = this.detailOf(job);
    job.lastDetail = detail;
    // The journal first: an event that is out is one a restarted stack can still describe.
    this.persist(job);
    const event: BatchJobStateChange = {
      version: '0',
      id: randomUUID(),
      'detail-type': 'Batch Job State Change',
      source: 'aws.batch',
      account: LOCAL_ACCOUNT,
      time: new Date(this.now()).toISOString(),
      region: LOCAL_REGION,
      resources: [job.jobArn],
      // A copy, so a consumer that mutates its event cannot change what describe reports.
      detail: structuredClone(detail),
    };
    try {
      this.onEvent(event);
    } catch (error) {
      console.error(`local compute: onEvent failed for job ${job.spec.jobId} (${status}):`, error);
    }
  }

  /** The event `detail` for the job's current state, shaped like Batch's. */
  private detailOf(job: LocalJob): BatchJobDetail {
    const { spec, end } = job;
    const logStreamName = `sx-local/default/${job.batchJobId}`;
    const past = job.pastAttempts.map((attempt) =>
      withoutUndefined({
        container: withoutUndefined({ exitCode: attempt.exitCode, logStreamName }),
        startedAt: attempt.startedAt,
        stoppedAt: attempt.stoppedAt,
        statusReason: attempt.statusReason,
      }),
    );
    const attempts = end?.attempted
      ? [
          ...past,
          withoutUndefined({
            container: withoutUndefined({
              exitCode: end.exitCode,
              reason: end.containerReason,
              logStreamName,
            }),
            startedAt: job.startedAt,
            stoppedAt: end.stoppedAt,
            statusReason: end.statusReason,
          }),
        ]
      : past;
    return withoutUndefined({
      jobName: spec.jobId,
      jobId: job.batchJobId,
      jobArn: job.jobArn,
      jobQueue: JOB_QUEUE_ARN,
      status: job.status,
      statusReason: end?.statusReason,
      createdAt: job.createdAt,
      startedAt: job.startedAt,
      stoppedAt: end?.stoppedAt,
      attempts,
      container: withoutUndefined({
        image: spec.image,
        exitCode: end?.exitCode,
        reason: end?.containerReason,
        logStreamName: job.process || end?.attempted ? logStreamName : undefined,
      }),
      tags: { 'sx:job-id': spec.jobId, 'sx:account-id': spec.accountId },
    });
  }
}

/** Sends a signal to a whole process group; a group that is already gone is not an error. */
function signalGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch (error) {
    if (isErrno(error, 'ESRCH')) return;
    console.error(`local compute: cannot send ${signal} to process group ${pid}:`, error);
  }
}

/** Resolves once no process of the group is left, or after {@link GROUP_EXIT_WAIT_MS}. */
async function untilGroupGone(pid: number | undefined): Promise<void> {
  const deadline = Date.now() + GROUP_EXIT_WAIT_MS;
  while (pid !== undefined && groupExists(pid) && Date.now() < deadline) await sleep(5);
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return !isErrno(error, 'ESRCH');
  }
}

/**
 * The pids of this user's processes whose environment matches, from /proc; undefined where there
 * is no /proc (macOS), so the caller falls back to what it recorded. Zombies have an empty environ.
 */
function scanProcesses(matches: (environ: string[]) => boolean): Set<number> | undefined {
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

function groupExists(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch (error) {
    // EPERM: a member exists that we may not signal (it changed user); it is still there.
    return !isErrno(error, 'ESRCH');
  }
}

/**
 * setTimeout for any delay (past ~24.8 days it is chained), unref'd: the job's child process
 * already keeps Node alive while it matters. Returns a function that cancels it.
 */
function setLongTimeout(callback: () => void, ms: number): () => void {
  let timer: NodeJS.Timeout | undefined;
  const arm = (left: number): void => {
    const wait = Math.min(left, MAX_TIMER_MS);
    timer = setTimeout(() => (left > wait ? arm(left - wait) : callback()), wait);
    timer.unref();
  };
  arm(Math.max(0, ms));
  return () => clearTimeout(timer);
}

/** Drops keys whose value is undefined, so events carry no `"key": undefined` noise. */
function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as T;
}

function isErrno(error: unknown, code: string): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === code;
}

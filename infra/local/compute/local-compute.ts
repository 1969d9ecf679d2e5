import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { constants } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

import type { BatchJobStateChange, BatchJobStatus } from '../../../events/batch-state-change';
import {
  COMPUTE_ATTEMPTS,
  type Capacity,
  type CapacityPool,
  type Compute,
  type ComputeJobSpec,
  type DescribedJob,
  type JobFiles,
} from '../../../functions/adapters/compute';
import {
  batchJobDetail,
  batchStateChange,
  EXITED_REASON,
  hostLostReason,
  SHUTDOWN_REASON,
  TIMEOUT_REASON,
  TOO_BIG_REASON,
  type JobEnd,
} from './batch-events';
import { readHeartbeat, readJournals, startHeartbeat, writeJournal } from './journal';
import { newLocalJob, type LocalJob } from './local-job';
import { jobEnvironment, isErrno, setLongTimeout, signalGroup, spawnGroup, untilGroupGone } from './processes';
import { GpuQueue } from './queue';
import { INPUTS_REASON_PREFIX, type JobData } from './job-data';
import { killLeftovers, recoveryStep, type ComputeRecovery } from './recovery';
// The local pool reports vCPUs per simulated GPU as a p4d node has them, so the capacity sweep sizes it alike.
import { VCPUS_PER_GPU } from '../../../functions/adapters/batch-job-definitions';

/** Job ids become directory names, so only plain names are accepted (no `/`, no `..`). */
const SAFE_JOB_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;


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
  /**
   * Moves jobs' data to and from the bucket: inputs before the command starts, outputs and
   * checkpoints before the final event. Without it, jobs have no inputs and outputs stay on disk only.
   */
  data?: JobData;
}

/**
 * The local stand-in for AWS Batch: runs each job's `command` as a host process (no container; the
 * image is only recorded) on a fixed pool of simulated GPUs, first come first served, and reports
 * progress as the same "Batch Job State Change" events Batch sends to EventBridge.
 *
 * Every process runs in its own process group, so signals (timeout, terminate, shutdown) reach its
 * children too, and whatever is left of the group is killed when the job's main process exits, as
 * when a container stops. A process that leaves its group on purpose (`setsid`) escapes this.
 *
 * The parts live beside it: the queue and GPU pool (`queue.ts`), process supervision
 * (`processes.ts`), the journal (`journal.ts`) and what a restart does with it (`recovery.ts`), and
 * the shape of Batch's events (`batch-events.ts`); this class ties them to the job's lifecycle.
 */
export class LocalCompute implements Compute, JobFiles, Capacity {
  private readonly dataDir: string;
  private readonly onEvent: (event: BatchJobStateChange) => void;
  private readonly now: () => number;
  private readonly data: JobData | undefined;

  private readonly byJobId = new Map<string, LocalJob>();
  private readonly byBatchJobId = new Map<string, LocalJob>();
  private readonly queue: GpuQueue;
  /** Jobs starting or running: each has (or had) a process. */
  private readonly active = new Set<LocalJob>();
  private pumping = false;
  private stopping = false;
  /** What the capacity projection last asked for; the local pool itself has a fixed size. */
  private sizing = { minvCpus: 0, desiredvCpus: 0 };
  private stopHeartbeat?: () => void;

  constructor(options: LocalComputeOptions) {
    this.dataDir = resolve(options.dataDir);
    this.queue = new GpuQueue(options.gpus ?? 8);
    this.onEvent = options.onEvent;
    this.now = options.now ?? Date.now;
    this.data = options.data;
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
    mkdirSync(join(dir, 'input'), { recursive: true });

    const job = this.register(spec);
    this.emit(job, 'SUBMITTED');
    this.emit(job, 'RUNNABLE');
    if (!this.queue.fits(spec.gpuCount)) {
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
    if (this.queue.remove(job)) {
      this.finish(job, { status: 'FAILED', statusReason: reason, attempted: false });
      return;
    }
    this.requestStop(job, reason, job.spec.graceSeconds);
  }

  /** The job's combined stdout and stderr so far; '' before it starts or for an unknown job. */
  async readLogs(jobId: string): Promise<string> {
    try {
      return await readFile(this.logFile(jobId), 'utf8');
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
    return [{ name: 'sx-local-gpu', market: 'on-demand', maxvCpus: this.queue.size * VCPUS_PER_GPU, ...this.sizing }];
  }

  /** Records the sizes asked for (the local pool's GPUs are all there all the time). */
  async resize(_name: string, target: { minvCpus: number; desiredvCpus?: number }): Promise<void> {
    this.sizing = { minvCpus: target.minvCpus, desiredvCpus: Math.max(this.sizing.desiredvCpus, target.desiredvCpus ?? 0, target.minvCpus) };
  }

  /** How many simulated GPUs are held by starting or running jobs. */
  runningGpus(): number {
    return this.queue.usedGpus();
  }

  /** The `jobId`s of the jobs waiting for GPUs, first in line first. */
  queuedJobs(): string[] {
    return this.queue.jobIds();
  }

  /**
   * Shuts the backend down: refuses new jobs, fails waiting jobs and terminates running ones with
   * reason 'Local stack shutting down' (SIGTERM, SIGKILL after `graceSeconds`). Resolves once every
   * process has exited and its final event was emitted. Safe to call more than once.
   */
  async stop({ graceSeconds }: { graceSeconds: number }): Promise<void> {
    this.stopping = true;
    this.stopHeartbeat?.();
    for (const job of this.queue.drain()) {
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
    const lastAlive = readHeartbeat(this.dataDir);
    this.stopHeartbeat = startHeartbeat(this.dataDir, this.now);
    const entries = readJournals(this.dataDir).sort((a, b) => a.createdAt - b.createdAt);
    const report: ComputeRecovery = { known: entries.length, requeued: 0, lostAttempts: 0, stopped: 0, killedProcesses: 0 };
    report.killedProcesses = await killLeftovers(this.dataDir, entries.filter((entry) => !entry.end));
    const unfinished: Array<[LocalJob, (typeof entries)[number]]> = [];
    for (const entry of entries) {
      const job = this.register(entry.spec, entry.batchJobId, entry.createdAt);
      job.status = entry.status;
      job.lastDetail = entry.lastDetail;
      job.pastAttempts = entry.pastAttempts;
      job.startedAt = entry.startedAt;
      job.stopReason = entry.stopReason;
      if (entry.end) {
        job.end = entry.end;
        job.markFinished();
      } else unfinished.push([job, entry]);
    }
    for (const [job, entry] of unfinished) {
      const step = recoveryStep(entry, { now, lastAlive }, this.queue.size);
      switch (step.kind) {
        case 'stopped':
          report.stopped++;
          this.finish(job, { status: 'FAILED', statusReason: step.statusReason, stoppedAt: step.stoppedAt, attempted: step.attempted });
          break;
        case 'lost':
          report.lostAttempts++;
          this.finish(job, { status: 'FAILED', statusReason: step.statusReason, stoppedAt: step.stoppedAt, attempted: true });
          break;
        case 'retry':
          report.lostAttempts++;
          job.pastAttempts.push({ startedAt: job.startedAt, stoppedAt: step.stoppedAt, statusReason: step.statusReason });
          job.startedAt = undefined;
          this.emit(job, 'RUNNABLE');
          this.queue.push(job);
          break;
        case 'too-big':
          this.finish(job, { status: 'FAILED', statusReason: TOO_BIG_REASON, attempted: false });
          break;
        case 'requeue':
          report.requeued++;
          if (job.status === 'SUBMITTED') this.emit(job, 'RUNNABLE');
          this.queue.push(job);
          break;
        default:
          step satisfies never;
      }
    }
    this.pump();
    return report;
  }

  private register(spec: ComputeJobSpec, batchJobId: string = randomUUID(), createdAt: number = this.now()): LocalJob {
    const job = newLocalJob(spec, batchJobId, createdAt);
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
      for (let next = this.stopping ? undefined : this.queue.takeNext(); next; next = this.stopping ? undefined : this.queue.takeNext()) {
        this.start(next);
      }
    } finally {
      this.pumping = false;
    }
  }

  private start(job: LocalJob): void {
    this.emit(job, 'STARTING');
    this.trackActive(job);
    if (!this.data || !job.spec.inputs?.length) {
      this.spawn(job);
      return;
    }
    // Inputs are fetched while STARTING, before RUNNING: their transfer time is never billed.
    void this.data.fetchInputs(job.spec, join(this.jobDir(job.spec.jobId), 'input')).then(
      () => {
        if (job.end) return;
        if (job.stopReason !== undefined || this.stopping) this.finish(job, { status: 'FAILED', statusReason: job.stopReason ?? SHUTDOWN_REASON, attempted: false });
        else this.spawn(job);
      },
      (error: unknown) => {
        if (job.end) return;
        const message = error instanceof Error ? error.message : String(error);
        this.finish(job, { status: 'FAILED', statusReason: job.stopReason ?? INPUTS_REASON_PREFIX + message, attempted: false });
      },
    );
  }

  private spawn(job: LocalJob): void {
    const dir = this.jobDir(job.spec.jobId);
    let child: ChildProcess;
    try {
      child = spawnGroup(job.spec.command, dir, this.environment(job), this.logFile(job.spec.jobId));
    } catch (error) {
      this.cannotStart(job, error);
      return;
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
    void untilGroupGone(pid)
      .then(() => this.saveResults(job))
      .then(() => this.finish(job, end));
  }

  /** Outputs and checkpoints to the bucket before the job is reported final; a failure is logged, never hangs the job. */
  private async saveResults(job: LocalJob): Promise<void> {
    try {
      await this.data?.saveResults(job.spec.jobId, this.jobDir(job.spec.jobId));
    } catch (error) {
      console.error(`local compute: saving the outputs of job ${job.spec.jobId} failed:`, error);
    }
  }

  /** The attempt's host is gone: retry it like Batch's strategy does, or fail the job after the last attempt. */
  private hostLost(job: LocalJob, exitCode: number, reason: string): void {
    const stoppedAt = this.now();
    const pid = job.process?.pid;
    job.hostLost = undefined;
    if (job.pastAttempts.length + 1 >= COMPUTE_ATTEMPTS || this.stopping) {
      signalGroup(pid, 'SIGKILL');
      void untilGroupGone(pid)
        .then(() => this.saveResults(job))
        .then(() => this.finish(job, { status: 'FAILED', statusReason: reason, stoppedAt, exitCode, attempted: true }));
      return;
    }
    job.pastAttempts.push({ startedAt: job.startedAt, stoppedAt, exitCode, statusReason: reason });
    for (const cancel of job.timers) cancel();
    job.timers = [];
    job.process = undefined;
    job.pid = undefined;
    job.startedAt = undefined;
    job.sigtermSent = false;
    this.queue.release(job);
    this.untrackActive(job);
    void untilGroupGone(pid).then(() => {
      if (job.end) return;
      // Terminated (or the stack stopped) between attempts: there is nothing left to run.
      if (job.stopReason !== undefined || this.stopping) {
        this.finish(job, { status: 'FAILED', statusReason: job.stopReason ?? SHUTDOWN_REASON, attempted: false });
        return;
      }
      this.emit(job, 'RUNNABLE');
      this.queue.pushBySubmission(job);
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
    this.queue.release(job);
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
    const dir = this.jobDir(job.spec.jobId);
    return jobEnvironment({
      ...job.spec.env,
      SX_JOB_ID: job.spec.jobId,
      SX_INPUT_DIR: join(dir, 'input'),
      SX_OUTPUT_DIR: join(dir, 'output'),
      SX_CHECKPOINT_DIR: join(dir, 'checkpoints'),
      SX_GPU_COUNT: String(job.spec.gpuCount),
      // As Batch sets it in the container: 1 for the first attempt.
      AWS_BATCH_JOB_ATTEMPT: String(job.pastAttempts.length + 1),
      NVIDIA_VISIBLE_DEVICES: job.gpus.join(','),
    });
  }

  /** Where a job's combined output is written, as it runs (what CloudWatch Logs holds in AWS). */
  logFile(jobId: string): string {
    return join(this.jobDir(jobId), 'logs.txt');
  }

  private jobDir(jobId: string): string {
    if (!SAFE_JOB_ID.test(jobId)) throw new Error(`Not a usable job id: ${JSON.stringify(jobId)}`);
    return join(this.dataDir, 'jobs', jobId);
  }

  /** Writes the job's journal entry. */
  private persist(job: LocalJob): void {
    writeJournal(this.jobDir(job.spec.jobId), job);
  }

  /** Records the new status and hands the event to `onEvent`, whose failures must not stop us. */
  private emit(job: LocalJob, status: BatchJobStatus): void {
    job.status = status;
    const detail = batchJobDetail({ ...job, hasProcess: job.process !== undefined });
    job.lastDetail = detail;
    // The journal first: an event that is out is one a restarted stack can still describe.
    this.persist(job);
    const event = batchStateChange(detail, job.jobArn, this.now());
    try {
      this.onEvent(event);
    } catch (error) {
      console.error(`local compute: onEvent failed for job ${job.spec.jobId} (${status}):`, error);
    }
  }
}

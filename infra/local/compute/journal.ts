import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import type { BatchJobStatus } from '../../../events/batch-state-change';
import type { ComputeJobSpec } from '../../../functions/adapters/compute';
import type { BatchJobDetail, JobEnd, PastAttempt } from './batch-events';
import type { LocalJob } from './local-job';
import { isErrno } from './processes';

/**
 * The journal: one file per compute job beside its outputs (`<dataDir>/jobs/<jobId>/batch-job.json`),
 * rewritten on every change, and a heartbeat file, so a restarted stack knows every job and when it
 * was last alive.
 */

const JOURNAL_FILE = 'batch-job.json';

/** How often the backend notes that it is alive (what a job that died with the stack is billed up to). */
const HEARTBEAT_MS = 1_000;

/** What the journal keeps of a job: enough to describe it, keep `submit` idempotent and pick it up after a crash. */
export interface JournalEntry {
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

/**
 * Writes the job's journal entry into its directory (a whole new file renamed over the old one, so a
 * crash leaves one or the other). A failure is logged: the job goes on, it is only less recoverable.
 */
export function writeJournal(jobDir: string, job: LocalJob): void {
  const file = join(jobDir, JOURNAL_FILE);
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

/** Every job's journal entry under `<dataDir>/jobs`; one that cannot be read is logged and skipped. */
export function readJournals(dataDir: string): JournalEntry[] {
  const jobsDir = join(dataDir, 'jobs');
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

/** Notes `now()` in `<dataDir>/heartbeat` at once and every second; returns the function that stops it. */
export function startHeartbeat(dataDir: string, now: () => number): () => void {
  const file = join(dataDir, 'heartbeat');
  mkdirSync(dataDir, { recursive: true });
  const beat = () => {
    try {
      writeFileSync(file, String(now()));
    } catch (error) {
      console.error('local compute: cannot write the heartbeat:', error);
    }
  };
  beat();
  const timer = setInterval(beat, HEARTBEAT_MS);
  timer.unref();
  return () => clearInterval(timer);
}

/** When the stack was last known alive, epoch ms; undefined when it never ran here. */
export function readHeartbeat(dataDir: string): number | undefined {
  try {
    const value = Number(readFileSync(join(dataDir, 'heartbeat'), 'utf8'));
    return Number.isFinite(value) && value > 0 ? value : undefined;
  } catch {
    return undefined;
  }
}

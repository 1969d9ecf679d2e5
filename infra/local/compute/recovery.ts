import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { COMPUTE_ATTEMPTS } from '../../../functions/adapters/compute';
import { hostLostReason } from './batch-events';
import type { JournalEntry } from './journal';
import { groupExists, processExists, scanProcesses, signalGroup } from './processes';

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

/** What happens to an unfinished job read back from the journal. */
export type RecoveryStep =
  /** It was being stopped (cancel, timeout, shutdown): FAILED with that reason. */
  | { kind: 'stopped'; statusReason: string; stoppedAt: number; attempted: boolean }
  /** Its attempt was lost with the stack and it has attempts left: that attempt ends, the job goes back in line. */
  | { kind: 'retry'; statusReason: string; stoppedAt: number }
  /** Its last attempt was lost with the stack: FAILED. */
  | { kind: 'lost'; statusReason: string; stoppedAt: number }
  /** It never started and the pool has become too small for it (SX_GPUS): FAILED. */
  | { kind: 'too-big' }
  /** It never started: back in line. */
  | { kind: 'requeue' };

/**
 * Decides, like Batch's retry strategy after a lost host, what becomes of an unfinished job: an
 * attempt that was starting or running ended with `Host EC2 (…) terminated.` when the stack was
 * last known alive (`lastAlive`, its heartbeat), so what ran after it, unsupervised, is not billed.
 */
export function recoveryStep(entry: JournalEntry, at: { now: number; lastAlive?: number }, poolSize: number): RecoveryStep {
  const attempted = entry.status === 'STARTING' || entry.status === 'RUNNING';
  const stoppedAt = Math.min(at.now, Math.max(at.lastAlive ?? at.now, entry.startedAt ?? 0));
  if (entry.stopReason !== undefined) return { kind: 'stopped', statusReason: entry.stopReason, stoppedAt, attempted };
  if (attempted) {
    const statusReason = hostLostReason(entry.gpus[0] ?? 0);
    return entry.pastAttempts.length + 1 >= COMPUTE_ATTEMPTS ? { kind: 'lost', statusReason, stoppedAt } : { kind: 'retry', statusReason, stoppedAt };
  }
  if (entry.spec.gpuCount > poolSize) return { kind: 'too-big' };
  return { kind: 'requeue' };
}

/**
 * SIGKILLs what is left of unfinished jobs and waits (briefly) until it is gone; returns how many
 * processes. They are found by the `SX_OUTPUT_DIR` under `<dataDir>/jobs` in their environment
 * (/proc), or by the journaled process group where there is no /proc.
 */
export async function killLeftovers(dataDir: string, unfinished: JournalEntry[]): Promise<number> {
  const marker = `SX_OUTPUT_DIR=${join(dataDir, 'jobs')}/`;
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

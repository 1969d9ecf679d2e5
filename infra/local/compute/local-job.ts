import type { ChildProcess } from 'node:child_process';

import type { BatchJobStatus } from '../../../events/batch-state-change';
import type { ComputeJobSpec } from '../../../functions/adapters/compute';
import { localJobArn, type BatchJobDetail, type JobEnd, type PastAttempt } from './batch-events';

/** One compute job as the local backend tracks it, from submission to its final event. */
export interface LocalJob {
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
  /** Set when the current attempt's host is lost (`LocalCompute.interrupt`): its status reason. */
  hostLost?: string;
  /** Process group of the current attempt, kept in the journal so a restarted stack can kill it. */
  pid?: number;
  end?: JobEnd;
  readonly finished: Promise<void>;
  markFinished: () => void;
}

/** A job just submitted (or read back from the journal), not yet queued. */
export function newLocalJob(spec: ComputeJobSpec, batchJobId: string, createdAt: number): LocalJob {
  let markFinished = (): void => {};
  const finished = new Promise<void>((resolveFinished) => {
    markFinished = resolveFinished;
  });
  return {
    spec,
    batchJobId,
    jobArn: localJobArn(batchJobId),
    createdAt,
    status: 'SUBMITTED',
    gpus: [],
    sigtermSent: false,
    timers: [],
    pastAttempts: [],
    finished,
    markFinished,
  };
}

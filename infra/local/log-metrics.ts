import { open } from 'node:fs/promises';
import type { LineParser } from '../../domain/metrics/parse';
import type { BatchJobStateChange } from '../../events/batch-state-change';
import type { EventStore } from '../../functions/adapters/event-store';
import { load } from '../../functions/aggregates/aggregate';
import { jobs } from '../../functions/aggregates/jobs';
import type { MetricStore } from '../../functions/job-metrics/metric-store';
import { parserFor, recordLines, type LogLine } from '../../functions/job-metrics/record-lines';
import { logger } from '../../functions/logger';

/** Bytes read from one log per pass at most, so one chatty job cannot hold up the others. */
const MAX_READ_BYTES = 4 * 1024 * 1024;

interface Followed {
  parse: Promise<LineParser>;
  /** Bytes of the log already read, up to the end of its last complete line. */
  offset: number;
  /** The job ended: read what is left once more, then stop. */
  ended: boolean;
}

export interface LogMetricsOptions {
  store: EventStore;
  metrics: MetricStore;
  /** The log file of a job. */
  logFile: (jobId: string) => string;
  /** @default 500 */
  pollMs?: number;
  now?: () => number;
}

/**
 * The local stand-in for the CloudWatch Logs subscription of the job log group: follows the log
 * file of each running job (from the compute backend's state changes), reads its complete lines
 * as they are written and records their metrics, every `pollMs`. A line's position is its byte
 * offset, so reading a log again after a restart writes the same points again, not new ones.
 * An error (a busy DynamoDB) leaves the offset where it was: the next pass reads the lines again.
 */
export class LogMetrics {
  private readonly followed = new Map<string, Followed>();
  private readonly timer: NodeJS.Timeout;
  private pass: Promise<void> = Promise.resolve();
  private readonly now: () => number;

  constructor(private readonly options: LogMetricsOptions) {
    this.now = options.now ?? Date.now;
    this.timer = setInterval(() => this.runPass(), options.pollMs ?? 500);
    this.timer.unref();
  }

  /** Follows a job from when it runs, and reads its log a last time once it has ended. */
  observe(event: BatchJobStateChange): void {
    const jobId = event.detail.jobName;
    const status = event.detail.status;
    const known = this.followed.get(jobId);
    if (status === 'RUNNING' && !known) {
      const parse = load(this.options.store, jobs, jobId).then(({ state }) => parserFor(state.status === 'none' ? [] : state.job.metricDefinitions));
      parse.catch(() => {}); // reported by the pass that awaits it
      this.followed.set(jobId, { parse, offset: 0, ended: false });
    } else if (known && (status === 'SUCCEEDED' || status === 'FAILED')) {
      known.ended = true;
    }
  }

  /** Reads every followed log to its end once more, then stops. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    for (const entry of this.followed.values()) entry.ended = true;
    await this.runPass();
  }

  private runPass(): Promise<void> {
    this.pass = this.pass.then(async () => {
      for (const [jobId, entry] of this.followed) {
        try {
          const done = await this.read(jobId, entry);
          if (done && entry.ended) this.followed.delete(jobId);
        } catch (error) {
          logger.warn('reading a job log for metrics failed; will retry', { jobId, error });
        }
      }
    });
    return this.pass;
  }

  /** @returns whether the log was read to its end. */
  private async read(jobId: string, entry: Followed): Promise<boolean> {
    const parse = await entry.parse;
    let file;
    try {
      file = await open(this.options.logFile(jobId), 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return true;
      throw error;
    }
    let chunk: Buffer;
    try {
      const size = (await file.stat()).size;
      const buffer = Buffer.alloc(Math.max(0, Math.min(size - entry.offset, MAX_READ_BYTES)));
      const { bytesRead } = await file.read(buffer, 0, buffer.length, entry.offset);
      chunk = buffer.subarray(0, bytesRead);
    } finally {
      await file.close();
    }
    const whole = chunk.length < MAX_READ_BYTES;
    // Only complete lines; an ended job's last line counts even without its newline, and a line
    // longer than a whole read is passed over (no metric line is that long).
    const end = (whole && entry.ended) || chunk.lastIndexOf(0x0a) === -1 && !whole ? chunk.length : chunk.lastIndexOf(0x0a) + 1;
    if (end === 0) return chunk.length === 0;
    const timeMs = this.now();
    const lines: LogLine[] = [];
    for (let start = 0; start < end; ) {
      const newline = chunk.indexOf(0x0a, start);
      const stop = newline === -1 || newline >= end ? end : newline;
      lines.push({ text: chunk.toString('utf8', start, stop), timeMs, position: String(entry.offset + start).padStart(15, '0') });
      start = stop + 1;
    }
    await recordLines(this.options.metrics, jobId, parse, lines, timeMs);
    entry.offset += end;
    return whole && end === chunk.length;
  }
}

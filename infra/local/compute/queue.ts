import type { LocalJob } from './local-job';

/**
 * The queue and the GPU pool: jobs wait in submission order and start strictly in that order, each
 * on the lowest free GPU indexes, like a real node's device order.
 */
export class GpuQueue {
  /** Jobs waiting for GPUs, in submission order. */
  private waiting: LocalJob[] = [];
  /** Free GPU indexes, kept sorted. */
  private free: number[];

  constructor(readonly size: number) {
    this.free = Array.from({ length: size }, (_, index) => index);
  }

  /** Whether the pool could ever run a job of this many GPUs. */
  fits(gpuCount: number): boolean {
    return gpuCount <= this.size;
  }

  /** How many GPUs are held by starting or running jobs. */
  usedGpus(): number {
    return this.size - this.free.length;
  }

  /** The `jobId`s of the waiting jobs, first in line first. */
  jobIds(): string[] {
    return this.waiting.map((job) => job.spec.jobId);
  }

  /** Puts a job at the end of the line. */
  push(job: LocalJob): void {
    this.waiting.push(job);
  }

  /** Puts a retried job back in line by submission time: it does not lose its place to jobs submitted after it. */
  pushBySubmission(job: LocalJob): void {
    const at = this.waiting.findIndex((queued) => queued.createdAt > job.createdAt);
    this.waiting.splice(at === -1 ? this.waiting.length : at, 0, job);
  }

  /** Takes a job out of the line; whether it was waiting. */
  remove(job: LocalJob): boolean {
    const before = this.waiting.length;
    this.waiting = this.waiting.filter((queued) => queued !== job);
    return this.waiting.length !== before;
  }

  /** Empties the line and returns who was in it. */
  drain(): LocalJob[] {
    const waiting = this.waiting;
    this.waiting = [];
    return waiting;
  }

  /** The head of the line with the GPUs it needs (set on `job.gpus`) if they are free; undefined while it does not fit. */
  takeNext(): LocalJob | undefined {
    const head = this.waiting[0];
    if (!head || head.spec.gpuCount > this.free.length) return undefined;
    this.waiting.shift();
    head.gpus = this.free.splice(0, head.spec.gpuCount);
    return head;
  }

  /** Gives back the GPUs a job held. */
  release(job: LocalJob): void {
    this.free = [...this.free, ...job.gpus].sort((a, b) => a - b);
    job.gpus = [];
  }
}

import { randomUUID } from 'node:crypto';
import { logger } from '../../functions/logger';

export interface LocalSchedule {
  name: string;
  rateSeconds: number;
  target: (event: ScheduledEvent) => Promise<unknown>;
}

/** What EventBridge Scheduler delivers to a Lambda target for a rate schedule (no custom input). */
export interface ScheduledEvent {
  id: string;
  'detail-type': 'Scheduled Event';
  source: 'aws.scheduler';
  time: string;
  detail: Record<string, never>;
}

/**
 * The local stand-in for EventBridge Scheduler: invokes each target every `rateSeconds`, never
 * overlapping itself (a slow run delays the next tick rather than stacking up). A failed run is
 * logged; the next tick is the retry, so handlers must be safe to run again.
 */
export class LocalScheduler {
  private readonly running = new Set<Promise<void>>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly extraTimers = new Set<NodeJS.Timeout>();
  private stopped = false;

  constructor(private readonly schedules: LocalSchedule[]) {}

  start(): void {
    for (const schedule of this.schedules) this.arm(schedule);
  }

  /** Stops ticking and waits for runs in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.timers.forEach((timer) => clearTimeout(timer));
    this.extraTimers.forEach((timer) => clearTimeout(timer));
    await Promise.allSettled([...this.running]);
  }

  /**
   * Runs one schedule once more, `delayMs` from now, besides its regular ticks (after a restart the
   * reconciler should not wait a whole period). Unknown names are ignored; handlers tolerate overlap.
   */
  runSoon(name: string, delayMs = 0): void {
    const schedule = this.schedules.find((s) => s.name === name);
    if (!schedule || this.stopped) return;
    const timer = setTimeout(() => {
      if (this.stopped) return;
      const run = this.tick(schedule).finally(() => this.running.delete(run));
      this.running.add(run);
    }, delayMs);
    this.extraTimers.add(timer);
  }

  private arm(schedule: LocalSchedule): void {
    if (this.stopped) return;
    const timer = setTimeout(() => {
      const run = this.tick(schedule).finally(() => {
        this.running.delete(run);
        this.arm(schedule);
      });
      this.running.add(run);
    }, schedule.rateSeconds * 1000);
    this.timers.set(schedule.name, timer);
  }

  private async tick(schedule: LocalSchedule): Promise<void> {
    const event: ScheduledEvent = { id: randomUUID(), 'detail-type': 'Scheduled Event', source: 'aws.scheduler', time: new Date().toISOString(), detail: {} };
    try {
      await schedule.target(event);
    } catch (error) {
      logger.error('scheduled run failed', { schedule: schedule.name, error });
    }
  }
}

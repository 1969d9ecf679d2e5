import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LocalScheduler } from '../../../infra/local/scheduler';
import { logger } from '../../../functions/logger';

// The clock is vitest's: each step of time is advanced explicitly, so no assertion depends on how fast
// this machine runs timers.
beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('LocalScheduler', () => {
  it('invokes a target at its rate with an EventBridge Scheduler event, and stops', async () => {
    const seen: unknown[] = [];
    const scheduler = new LocalScheduler([{ name: 'tick', rateSeconds: 0.02, target: async (e) => void seen.push(e) }]);
    scheduler.start();
    await vi.advanceTimersByTimeAsync(19);
    expect(seen).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(seen).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(40);
    expect(seen).toHaveLength(3);
    expect(seen[0]).toMatchObject({ 'detail-type': 'Scheduled Event', source: 'aws.scheduler', detail: {} });
    await scheduler.stop();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(seen).toHaveLength(3);
  });

  it('never runs a schedule twice at once, and keeps ticking after a failure', async () => {
    vi.spyOn(logger, 'error').mockImplementation(() => undefined);
    let active = 0;
    let maxActive = 0;
    let runs = 0;
    const scheduler = new LocalScheduler([
      {
        name: 'slow',
        rateSeconds: 0.01,
        target: async () => {
          runs++;
          active++;
          maxActive = Math.max(maxActive, active);
          // Each run outlasts three periods: a scheduler that stacked runs would overlap here.
          await new Promise((r) => setTimeout(r, 30));
          active--;
          if (runs === 1) throw new Error('first run fails');
        },
      },
    ]);
    scheduler.start();
    // Tick at 10 ms, run to 40; the next tick 10 ms after that run ends, and so on: 40 ms a run.
    await vi.advanceTimersByTimeAsync(200);
    await scheduler.stop();
    expect(maxActive).toBe(1);
    expect(runs).toBe(5);
    expect(active).toBe(0);
  });
});

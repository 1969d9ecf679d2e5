import { describe, expect, it } from 'vitest';
import { LocalScheduler } from '../../../infra/local/scheduler';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('LocalScheduler', () => {
  it('invokes a target at its rate with an EventBridge Scheduler event, and stops', async () => {
    const seen: unknown[] = [];
    const scheduler = new LocalScheduler([{ name: 'tick', rateSeconds: 0.02, target: async (e) => void seen.push(e) }]);
    scheduler.start();
    await sleep(150);
    await scheduler.stop();
    const count = seen.length;
    expect(count).toBeGreaterThanOrEqual(3);
    expect(seen[0]).toMatchObject({ 'detail-type': 'Scheduled Event', source: 'aws.scheduler', detail: {} });
    await sleep(60);
    expect(seen.length).toBe(count);
  });

  it('never runs a schedule twice at once, and keeps ticking after a failure', async () => {
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
          await sleep(30);
          active--;
          if (runs === 1) throw new Error('first run fails');
        },
      },
    ]);
    scheduler.start();
    await sleep(200);
    await scheduler.stop();
    expect(maxActive).toBe(1);
    expect(runs).toBeGreaterThanOrEqual(3);
    expect(active).toBe(0);
  });
});

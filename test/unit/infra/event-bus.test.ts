import { describe, expect, it } from 'vitest';
import { LocalEventBus } from '../../../infra/local/event-bus';

const batchEvent = (id: string) => ({ id, source: 'aws.batch', 'detail-type': 'Batch Job State Change', detail: {} });

describe('LocalEventBus (the local EventBridge)', () => {
  it('routes events matching a rule’s pattern to its target, in order, and nothing else', async () => {
    const got: string[] = [];
    const bus = new LocalEventBus([
      { name: 'batch', pattern: { source: ['aws.batch'], 'detail-type': ['Batch Job State Change'] }, target: async (e) => void got.push(e.id) },
    ]);
    bus.put(batchEvent('1'));
    bus.put({ id: 'x', source: 'aws.ec2', 'detail-type': 'Batch Job State Change' });
    bus.put({ id: 'y', source: 'aws.batch', 'detail-type': 'Something Else' });
    bus.put(batchEvent('2'));
    await bus.close();
    expect(got).toEqual(['1', '2']);
  });

  it('retries a failing target with backoff, then delivers the rest in order', async () => {
    const got: string[] = [];
    let failures = 0;
    const bus = new LocalEventBus(
      [{ name: 'flaky', pattern: { source: ['aws.batch'] }, target: async (e) => {
        if (e.id === '1' && failures < 2) {
          failures++;
          throw new Error('try again');
        }
        got.push(e.id);
      } }],
      { baseDelayMs: 1 },
    );
    bus.put(batchEvent('1'));
    bus.put(batchEvent('2'));
    await bus.close();
    expect(failures).toBe(2);
    expect(got).toEqual(['1', '2']);
  });

  it('gives up on an event after maxAttempts and goes on with the next', async () => {
    const got: string[] = [];
    let attempts = 0;
    const bus = new LocalEventBus(
      [{ name: 'poison', pattern: { source: ['aws.batch'] }, target: async (e) => {
        if (e.id === 'bad') {
          attempts++;
          throw new Error('never');
        }
        got.push(e.id);
      } }],
      { maxAttempts: 3, baseDelayMs: 1 },
    );
    bus.put(batchEvent('bad'));
    bus.put(batchEvent('good'));
    await bus.close();
    expect(attempts).toBe(3);
    expect(got).toEqual(['good']);
  });
});

import { describe, expect, it } from 'vitest';
import { ConcurrencyError } from '../../functions/adapters/event-store';
import { InMemoryEventStore } from '../../functions/adapters/in-memory-event-store';
import { retryOnConflict } from '../../functions/adapters/with-retry';
import { commandHandlerContract } from '../support/command-handler-contract';
import { eventStoreContract } from '../support/event-store-contract';

eventStoreContract('in memory', async () => {
  const store = new InMemoryEventStore();
  return { store, readView: async (pk, sk) => store.view(pk, sk) };
});

describe('InMemoryEventStore.all', () => {
  it('lists every event of every stream in append order', async () => {
    // Prepare
    const store = new InMemoryEventStore();
    const at = '2025-01-01T00:00:00.000Z';

    // Act
    await store.append([{ streamId: 'job#1', expectedVersion: 0, events: [{ type: 'A', data: {} }] }], { at });
    await store.append(
      [
        { streamId: 'account#1', expectedVersion: 0, events: [{ type: 'B', data: {} }] },
        { streamId: 'job#1', expectedVersion: 1, events: [{ type: 'C', data: {} }] },
      ],
      { at },
    );

    // Assess
    expect(store.all().map((e) => [e.streamId, e.version, e.type])).toEqual([
      ['job#1', 1, 'A'],
      ['account#1', 1, 'B'],
      ['job#1', 2, 'C'],
    ]);
  });
});

describe('retryOnConflict', () => {
  const fast = { baseDelayMs: 1, maxDelayMs: 2 };

  it('runs again after a ConcurrencyError and returns the first success', async () => {
    let runs = 0;

    const result = await retryOnConflict(async () => {
      runs++;
      if (runs < 3) throw new ConcurrencyError(['job#1']);
      return 'done';
    }, fast);

    expect(result).toBe('done');
    expect(runs).toBe(3);
  });

  it('rethrows the last ConcurrencyError once the attempts are used up', async () => {
    let runs = 0;

    const failing = retryOnConflict(async () => {
      runs++;
      throw new ConcurrencyError([`job#${runs}`]);
    }, { ...fast, attempts: 4 });

    await expect(failing).rejects.toEqual(new ConcurrencyError(['job#4']));
    expect(runs).toBe(4);
  });

  it('does not retry other errors', async () => {
    let runs = 0;

    const failing = retryOnConflict(async () => {
      runs++;
      throw new Error('boom');
    }, fast);

    await expect(failing).rejects.toThrow('boom');
    expect(runs).toBe(1);
  });
});

commandHandlerContract('the in-memory event store', async () => ({ store: new InMemoryEventStore() }));

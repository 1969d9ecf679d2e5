import { randomUUID } from 'node:crypto';
import * as z from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DomainError } from '../../domain/errors';
import { ConcurrencyError, type EventStore } from '../../functions/adapters/event-store';
import { handleCommand, handleCommands, writeTo } from '../../functions/command-handler';

/** A small aggregate of its own: a counter that may not pass 10. */
const Added = z.object({ type: z.literal('Added'), data: z.object({ n: z.number() }) });
type Added = z.infer<typeof Added>;
class TooMuch extends DomainError {}
const counters = {
  streamId: (id: string) => `counter#${id}`,
  schema: Added,
  initialState: () => 0,
  evolve: (total: number, event: Added) => total + event.data.n,
  decide: (command: { add: number }, total: number): Added[] => {
    if (command.add === 0) return [];
    if (total + command.add > 10) throw new TooMuch(`${total} + ${command.add} passes 10`);
    return [{ type: 'Added', data: { n: command.add } }];
  },
};
const now = () => new Date('2026-12-05T12:00:00.000Z');

/**
 * The one command handler (functions/command-handler.ts) on an event store: call it at the top level
 * of a test file with a factory for the store, as `eventStoreContract` is.
 */
export function commandHandlerContract(name: string, make: () => Promise<{ store: EventStore; cleanup?: () => Promise<void> }>): void {
  describe(`the command handler on ${name}`, () => {
    let store: EventStore;
    let cleanup: (() => Promise<void>) | undefined;
    beforeAll(async () => {
      ({ store, cleanup } = await make());
    });
    afterAll(async () => cleanup?.());
    const deps = () => ({ store, now });
    const total = async (id: string) => (await store.readStream(counters.streamId(id))).events.reduce((sum, e) => sum + Number(e.data.n), 0);

    it('loads, decides and appends, with the time and metadata of the decision', async () => {
      const id = randomUUID();
      const first = await handleCommand(deps(), counters, id, () => ({ add: 3 }), { metadata: { actor: 'acct_1' } });
      const second = await handleCommand(deps(), counters, id, (_now, state) => ({ add: state }));

      expect([first.before, first.state, second.before, second.state]).toEqual([0, 3, 3, 6]);
      const { events, version } = await store.readStream(counters.streamId(id));
      expect(version).toBe(2);
      expect(events[0]).toMatchObject({ type: 'Added', at: '2026-12-05T12:00:00.000Z', metadata: { actor: 'acct_1' } });
    });

    it('writes nothing for a decision of no events, and nothing when the decider refuses', async () => {
      const id = randomUUID();
      const noop = await handleCommand(deps(), counters, id, () => ({ add: 0 }));
      await expect(handleCommand(deps(), counters, id, () => ({ add: 11 }))).rejects.toBeInstanceOf(TooMuch);

      expect(noop.events).toEqual([]);
      expect((await store.readStream(counters.streamId(id))).version).toBe(0);
    });

    it('decides again on the new state when another writer appended in between', async () => {
      const id = randomUUID();
      let attempts = 0;
      const result = await handleCommand(deps(), counters, id, async (_now, state) => {
        attempts += 1;
        // Another writer lands after this attempt's load, once: the append fails and the command runs again.
        if (attempts === 1) await store.append([{ streamId: counters.streamId(id), expectedVersion: 0, events: [{ type: 'Added', data: { n: 8 } }] }], { at: now().toISOString() });
        return { add: state === 0 ? 1 : 2 };
      });

      expect(attempts).toBe(2);
      expect(result).toMatchObject({ before: 8, state: 10 });
      expect(await total(id)).toBe(10);
    });

    it('appends to several streams atomically, or not at all when one of them keeps moving', async () => {
      const [a, b] = [randomUUID(), randomUUID()];
      await handleCommands(deps(), async ({ load }) => {
        const [ca, cb] = [await load(counters, a), await load(counters, b)];
        return { writes: [writeTo(ca, counters.decide({ add: 2 }, ca.state)), writeTo(cb, counters.decide({ add: 5 }, cb.state))], result: null };
      });
      expect([await total(a), await total(b)]).toEqual([2, 5]);

      let moved = 0;
      const contended = handleCommands(
        deps(),
        async ({ load }) => {
          const [ca, cb] = [await load(counters, a), await load(counters, b)];
          moved += 1;
          await store.append([{ streamId: counters.streamId(b), expectedVersion: cb.version, events: [{ type: 'Added', data: { n: 0 } }] }], { at: now().toISOString() });
          return { writes: [writeTo(ca, [{ type: 'Added', data: { n: 1 } }]), writeTo(cb, [{ type: 'Added', data: { n: 1 } }])], result: null };
        },
        { attempts: 3 },
      );

      await expect(contended).rejects.toBeInstanceOf(ConcurrencyError);
      expect(moved).toBe(3);
      expect([await total(a), await total(b)]).toEqual([2, 5]); // the other writer's zeros only
    });

    it('checks a stream it only read: a write of no events fails the append when that stream moved', async () => {
      const [a, b] = [randomUUID(), randomUUID()];
      let attempts = 0;
      await handleCommands(deps(), async ({ load }) => {
        const [ca, cb] = [await load(counters, a), await load(counters, b)];
        attempts += 1;
        if (attempts === 1) await store.append([{ streamId: counters.streamId(b), expectedVersion: 0, events: [{ type: 'Added', data: { n: 9 } }] }], { at: now().toISOString() });
        // `a` may take what `b` leaves of 10.
        return { writes: [writeTo(ca, counters.decide({ add: 10 - cb.state }, ca.state)), writeTo(cb, [])], result: null };
      });

      expect(attempts).toBe(2);
      expect([await total(a), await total(b)]).toEqual([1, 9]);
    });
  });
}

import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConcurrencyError, type EventStore, type NewEvent } from '../../functions/adapters/event-store';
import { retryOnConflict } from '../../functions/adapters/with-retry';

const at = '2025-01-02T03:04:05.000Z';

/** A fresh stream id per test, so one store serves the whole suite. */
const newStream = (kind = 'job') => `${kind}#${randomUUID()}`;

const event = (type: string, data: Record<string, unknown> = {}): NewEvent => ({ type, data });

/**
 * The behaviour every `EventStore` adapter must have. Call it at the top level of a test file with a
 * factory for the store under test; the factory runs once for the suite, `cleanup` after it.
 */
export function eventStoreContract(
  name: string,
  make: () => Promise<{
    store: EventStore;
    /** Reads an inline view the store wrote (from the views table, for DynamoDB). */
    readView: (pk: string, sk: string) => Promise<Record<string, unknown> | undefined>;
    cleanup?: () => Promise<void>;
  }>,
): void {
  describe(`EventStore contract: ${name}`, () => {
    let store: EventStore;
    let readView: (pk: string, sk: string) => Promise<Record<string, unknown> | undefined>;
    let cleanup: (() => Promise<void>) | undefined;

    beforeAll(async () => {
      ({ store, readView, cleanup } = await make());
    });
    afterAll(async () => {
      await cleanup?.();
    });

    describe('reading', () => {
      it('reads a stream that does not exist as version 0 with no events', async () => {
        // Act
        const result = await store.readStream(newStream());

        // Assess
        expect(result).toEqual({ events: [], version: 0 });
      });

      it('reads from fromVersion, still reporting the last version', async () => {
        // Prepare
        const streamId = newStream();
        await store.append([{ streamId, expectedVersion: 0, events: [event('A'), event('B'), event('C')] }], { at });

        // Act
        const fromTwo = await store.readStream(streamId, 2);
        const atEnd = await store.readStream(streamId, 4);
        const pastEnd = await store.readStream(streamId, 10);

        // Assess
        expect(fromTwo.events.map((e) => [e.version, e.type])).toEqual([[2, 'B'], [3, 'C']]);
        expect(fromTwo.version).toBe(3);
        expect(atEnd).toEqual({ events: [], version: 3 });
        expect(pastEnd).toEqual({ events: [], version: 3 });
        expect(await store.readStream(newStream(), 5)).toEqual({ events: [], version: 0 });
      });

      it('rejects a fromVersion that is not an integer ≥ 1', async () => {
        await expect(store.readStream(newStream(), 0)).rejects.toThrow(/integer ≥ 1/);
        await expect(store.readStream(newStream(), 1.5)).rejects.toThrow(/integer ≥ 1/);
      });
    });

    describe('appending', () => {
      it('appends events with versions 1..n, keeping type, data, metadata, at and schemaVersion', async () => {
        // Prepare
        const streamId = newStream();
        const data = { amount: 1_234_567, nested: { list: [1, 'two', { three: true }], nothing: null }, empty: '' };
        const metadata = { correlationId: 'corr-1', causationId: 'cmd-1', actor: 'user:alice' };

        // Act
        await store.append(
          [{ streamId, expectedVersion: 0, events: [event('JobQueued', data), { type: 'JobStarting', data: {}, schemaVersion: 2 }] }],
          { at, metadata },
        );
        await store.append([{ streamId, expectedVersion: 2, events: [event('JobRunning', { startedAt: at })] }], {
          at: '2025-01-02T03:04:06.000Z',
        });

        // Assess
        const { events, version } = await store.readStream(streamId);
        expect(version).toBe(3);
        expect(events).toEqual([
          { streamId, version: 1, type: 'JobQueued', schemaVersion: 1, data, metadata, at },
          { streamId, version: 2, type: 'JobStarting', schemaVersion: 2, data: {}, metadata, at },
          { streamId, version: 3, type: 'JobRunning', schemaVersion: 1, data: { startedAt: at }, metadata: {}, at: '2025-01-02T03:04:06.000Z' },
        ]);
      });

      it('isolates stored events from the caller’s objects', async () => {
        // Prepare
        const streamId = newStream();
        const data = { list: [1, 2] };
        await store.append([{ streamId, expectedVersion: 0, events: [event('A', data)] }], { at });

        // Act
        data.list.push(3);
        const first = await store.readStream(streamId);
        (first.events[0]?.data.list as number[]).push(4);

        // Assess
        expect((await store.readStream(streamId)).events[0]?.data).toEqual({ list: [1, 2] });
      });

      it('treats an empty list of appends as a no-op', async () => {
        await expect(store.append([], { at })).resolves.toBeUndefined();
      });

      it('rejects a stale expectedVersion with ConcurrencyError and writes nothing', async () => {
        // Prepare
        const streamId = newStream();
        await store.append([{ streamId, expectedVersion: 0, events: [event('A'), event('B')] }], { at });

        // Act / Assess: one event (a single conditional write) and several (a transaction)
        await expect(store.append([{ streamId, expectedVersion: 1, events: [event('Stale')] }], { at })).rejects.toEqual(
          new ConcurrencyError([streamId]),
        );
        await expect(
          store.append([{ streamId, expectedVersion: 0, events: [event('X'), event('Y')] }], { at }),
        ).rejects.toEqual(new ConcurrencyError([streamId]));
        const { events, version } = await store.readStream(streamId);
        expect(version).toBe(2);
        expect(events.map((e) => e.type)).toEqual(['A', 'B']);
      });

      it('rejects malformed requests with a plain Error, before writing anything', async () => {
        // Prepare
        const streamId = newStream();
        const tooMany = Array.from({ length: 101 }, (_, i) => event('E', { i }));

        // Act / Assess
        for (const appends of [
          [{ streamId, expectedVersion: 0, events: tooMany }],
          [
            { streamId, expectedVersion: 0, events: [event('A')] },
            { streamId, expectedVersion: 0, events: [event('B')] },
          ],
          [{ streamId, expectedVersion: -1, events: [event('A')] }],
          [{ streamId: '', expectedVersion: 0, events: [event('A')] }],
        ]) {
          const error = await store.append(appends, { at }).catch((e: unknown) => e);
          expect(error).toBeInstanceOf(Error);
          expect(error).not.toBeInstanceOf(ConcurrencyError);
        }
        expect(await store.readStream(streamId)).toEqual({ events: [], version: 0 });
      });

      it('appends up to 100 events at once, and reads them back past any page size', async () => {
        // Prepare: ~1.2 MB in all, more than one DynamoDB Query page (1 MB)
        const streamId = newStream();
        const padding = 'x'.repeat(12_000);
        const hundred = Array.from({ length: 100 }, (_, i) => event('E', { i, padding }));

        // Act

        await store.append([{ streamId, expectedVersion: 0, events: hundred }], { at });

        // Assess
        const { events, version } = await store.readStream(streamId);
        expect(version).toBe(100);
        expect(events.map((e) => e.data.i)).toEqual(hundred.map((e) => e.data.i));
      });
    });

    describe('appending to several streams', () => {
      it('writes to all of them when every stream is at its expected version', async () => {
        // Prepare
        const account = newStream('account');
        const job = newStream('job');
        await store.append([{ streamId: account, expectedVersion: 0, events: [event('AccountOpened')] }], { at });

        // Act
        await store.append(
          [
            { streamId: job, expectedVersion: 0, events: [event('JobQueued')] },
            { streamId: account, expectedVersion: 1, events: [event('HoldPlaced'), event('TrialUsed')] },
          ],
          { at },
        );

        // Assess
        expect((await store.readStream(job)).events.map((e) => [e.version, e.type])).toEqual([[1, 'JobQueued']]);
        expect((await store.readStream(account)).events.map((e) => [e.version, e.type])).toEqual([
          [1, 'AccountOpened'],
          [2, 'HoldPlaced'],
          [3, 'TrialUsed'],
        ]);
      });

      it('writes nothing when one stream conflicts, naming that stream', async () => {
        // Prepare
        const account = newStream('account');
        const job = newStream('job');
        await store.append([{ streamId: account, expectedVersion: 0, events: [event('AccountOpened')] }], { at });

        // Act
        const appending = store.append(
          [
            { streamId: job, expectedVersion: 0, events: [event('JobQueued')] },
            { streamId: account, expectedVersion: 0, events: [event('HoldPlaced')] },
          ],
          { at },
        );

        // Assess
        await expect(appending).rejects.toEqual(new ConcurrencyError([account]));
        expect(await store.readStream(job)).toEqual({ events: [], version: 0 });
        expect((await store.readStream(account)).version).toBe(1);
      });
    });

    describe('an append with no events (a version check)', () => {
      it('lets the other streams’ events through when the checked stream is at the version', async () => {
        // Prepare
        const voucher = newStream('voucher');
        const account = newStream('account');
        await store.append([{ streamId: voucher, expectedVersion: 0, events: [event('Issued'), event('Activated')] }], { at });

        // Act
        await store.append(
          [
            { streamId: voucher, expectedVersion: 2, events: [] },
            { streamId: account, expectedVersion: 0, events: [event('CreditGranted')] },
          ],
          { at },
        );

        // Assess
        expect((await store.readStream(account)).version).toBe(1);
        expect((await store.readStream(voucher)).version).toBe(2);
      });

      it('fails the whole append when the checked stream moved on, or never got there', async () => {
        // Prepare
        const voucher = newStream('voucher');
        const account = newStream('account');
        await store.append([{ streamId: voucher, expectedVersion: 0, events: [event('Issued'), event('Activated')] }], { at });

        // Act / Assess
        for (const expectedVersion of [0, 1, 3]) {
          const appending = store.append(
            [
              { streamId: voucher, expectedVersion, events: [] },
              { streamId: account, expectedVersion: 0, events: [event('CreditGranted')] },
            ],
            { at },
          );
          await expect(appending, `expectedVersion ${expectedVersion}`).rejects.toEqual(new ConcurrencyError([voucher]));
        }
        expect(await store.readStream(account)).toEqual({ events: [], version: 0 });
      });

      it('works on its own, as a check that writes nothing', async () => {
        // Prepare
        const streamId = newStream();
        await store.append([{ streamId, expectedVersion: 0, events: [event('A')] }], { at });

        // Act / Assess
        await expect(store.append([{ streamId, expectedVersion: 1, events: [] }], { at })).resolves.toBeUndefined();
        await expect(store.append([{ streamId: newStream(), expectedVersion: 0, events: [] }], { at })).resolves.toBeUndefined();
        await expect(store.append([{ streamId, expectedVersion: 0, events: [] }], { at })).rejects.toBeInstanceOf(ConcurrencyError);
        expect((await store.readStream(streamId)).version).toBe(1);
      });
    });

    describe('with inline views (a list entry written with the first events)', () => {
      const view = (streamId: string, version: number) => ({ pk: `list#${streamId}`, sk: streamId, item: { pk: `list#${streamId}`, sk: streamId, kind: 'test', version } });

      it('writes the view in the same append as the events', async () => {
        // Prepare
        const streamId = newStream();

        // Act
        await store.append([{ streamId, expectedVersion: 0, events: [event('A')] }], { at, inline: [view(streamId, 1)] });

        // Assess
        expect((await store.readStream(streamId)).version).toBe(1);
        expect(await readView(`list#${streamId}`, streamId)).toEqual({ pk: `list#${streamId}`, sk: streamId, kind: 'test', version: 1 });
      });

      it('writes neither the events nor the view when a stream moved on', async () => {
        // Prepare
        const streamId = newStream();
        const other = newStream();
        await store.append([{ streamId: other, expectedVersion: 0, events: [event('A')] }], { at });

        // Act
        const append = store.append(
          [
            { streamId, expectedVersion: 0, events: [event('A')] },
            { streamId: other, expectedVersion: 0, events: [event('B')] },
          ],
          { at, inline: [view(streamId, 1)] },
        );

        // Assess
        await expect(append).rejects.toBeInstanceOf(ConcurrencyError);
        expect((await store.readStream(streamId)).version).toBe(0);
        expect(await readView(`list#${streamId}`, streamId)).toBeUndefined();
      });

      it('refuses the whole append when the view already exists, writing no event', async () => {
        // Prepare
        const first = newStream();
        await store.append([{ streamId: first, expectedVersion: 0, events: [event('A')] }], { at, inline: [view(first, 1)] });
        const second = newStream();

        // Act
        const append = store.append([{ streamId: second, expectedVersion: 0, events: [event('A')] }], { at, inline: [view(first, 7)] });

        // Assess
        await expect(append).rejects.toBeInstanceOf(ConcurrencyError);
        expect((await store.readStream(second)).version).toBe(0);
        expect(await readView(`list#${first}`, first)).toMatchObject({ version: 1 });
      });

      it('refuses a view listed twice or keyed unlike its item, before any write', async () => {
        const streamId = newStream();
        const v = view(streamId, 1);
        await expect(store.append([{ streamId, expectedVersion: 0, events: [event('A')] }], { at, inline: [v, v] })).rejects.toThrow(/listed twice/);
        await expect(store.append([{ streamId, expectedVersion: 0, events: [event('A')] }], { at, inline: [{ ...v, sk: 'other' }] })).rejects.toThrow(/another key/);
        expect((await store.readStream(streamId)).version).toBe(0);
      });
    });

    describe('under concurrency', () => {
      it('lets exactly one of 50 concurrent appends at the same version succeed', async () => {
        // Prepare
        const streamId = newStream();

        // Act
        const results = await Promise.allSettled(
          Array.from({ length: 50 }, (_, writer) =>
            store.append([{ streamId, expectedVersion: 0, events: [event('Written', { writer })] }], { at }),
          ),
        );

        // Assess
        const winners = results.flatMap((result, writer) => (result.status === 'fulfilled' ? [writer] : []));
        const losers = results.flatMap((result) => (result.status === 'rejected' ? [result.reason] : []));
        expect(winners).toHaveLength(1);
        expect(losers).toHaveLength(49);
        for (const reason of losers) expect(reason).toEqual(new ConcurrencyError([streamId]));
        const { events, version } = await store.readStream(streamId);
        expect(version).toBe(1);
        expect(events[0]?.data).toEqual({ writer: winners[0] });
      });

      it('lets exactly one of 20 concurrent multi-stream appends succeed', async () => {
        // Prepare
        const account = newStream('account');
        const jobs = Array.from({ length: 20 }, () => newStream('job'));

        // Act
        const results = await Promise.allSettled(
          jobs.map((job) =>
            store.append(
              [
                { streamId: job, expectedVersion: 0, events: [event('JobQueued')] },
                { streamId: account, expectedVersion: 0, events: [event('HoldPlaced', { job })] },
              ],
              { at },
            ),
          ),
        );

        // Assess
        const winners = jobs.filter((_, i) => results[i]?.status === 'fulfilled');
        expect(winners).toHaveLength(1);
        for (const result of results) {
          if (result.status === 'rejected') expect(result.reason).toBeInstanceOf(ConcurrencyError);
        }
        expect((await store.readStream(account)).events.map((e) => e.data.job)).toEqual(winners);
        for (const job of jobs) {
          expect((await store.readStream(job)).version).toBe(job === winners[0] ? 1 : 0);
        }
      });

      it('keeps versions gap-free when 20 writers reload and retry on conflict', async () => {
        // Prepare
        const streamId = newStream('account');

        // Act: each conflict a writer sees means another writer's append landed between its read and its
        // append, and each writer lands once, so 20 attempts always suffice: the outcome is not left to
        // how the backoff happens to spread the writers on a busy machine.
        await Promise.all(
          Array.from({ length: 20 }, (_, writer) =>
            retryOnConflict(
              async () => {
                const { version } = await store.readStream(streamId);
                await store.append([{ streamId, expectedVersion: version, events: [event('Written', { writer })] }], { at });
              },
              { attempts: 20 },
            ),
          ),
        );

        // Assess
        const { events, version } = await store.readStream(streamId);
        expect(version).toBe(20);
        expect(events.map((e) => e.version)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
        expect(events.map((e) => e.data.writer).sort((a, b) => Number(a) - Number(b))).toEqual(
          Array.from({ length: 20 }, (_, i) => i),
        );
      });
    });
  });
}

import { describe, expect, it } from 'vitest';
import type { ObjectStore } from '../../../functions/adapters/object-store';
import { billedAttempt, withCommandRuns } from '../../../functions/command-runs';

// Batch's attempt: the container ran from 1 000 000 to 1 100 000 ms (100 s), of which the command
// ran from 1 030 000 (after 30 s of fetching inputs) to 1 090 000 (before 10 s of saving outputs).
const container = { startedAt: 1_000_000, stoppedAt: 1_100_000, statusReason: 'Essential container in task exited', container: { exitCode: 0 } };

describe('billedAttempt', () => {
  it("narrows Batch's span to the command's own run", () => {
    expect(billedAttempt(container, { attempt: 1, commandStartedAt: 1_030_000, commandStoppedAt: 1_090_000 })).toEqual({ ...container, startedAt: 1_030_000, stoppedAt: 1_090_000 });
  });

  it('drops the start of an attempt whose command never ran: it is billed nothing', () => {
    const { startedAt: _, ...rest } = container;
    expect(billedAttempt(container, { attempt: 1, commandStartedAt: null })).toEqual(rest);
  });

  it("keeps Batch's stop when the node could not report the end (the container was killed)", () => {
    expect(billedAttempt(container, { attempt: 1, commandStartedAt: 1_030_000 })).toEqual({ ...container, startedAt: 1_030_000 });
  });

  it("never widens Batch's span, whatever the node's clock says", () => {
    expect(billedAttempt(container, { attempt: 1, commandStartedAt: 900_000, commandStoppedAt: 1_200_000 })).toEqual(container);
    // An end before the start counts nothing; a start after the container stopped counts nothing.
    expect(billedAttempt(container, { attempt: 1, commandStartedAt: 1_050_000, commandStoppedAt: 1_040_000 })).toEqual({ ...container, startedAt: 1_050_000, stoppedAt: 1_050_000 });
    expect(billedAttempt(container, { attempt: 1, commandStartedAt: 2_000_000 })).toEqual({ ...container, startedAt: 1_100_000 });
  });

  it('leaves an attempt without a report, or that Batch never started, as it is', () => {
    expect(billedAttempt(container, undefined)).toEqual(container);
    expect(billedAttempt({ stoppedAt: 1 }, { attempt: 1, commandStartedAt: 5 })).toEqual({ stoppedAt: 1 });
  });
});

/** The bucket: objects by key, and every request made. */
function bucket(objects: Record<string, string>, failReads = false) {
  const requests: string[] = [];
  const store = {
    async list(prefix: string) {
      requests.push(`list ${prefix}`);
      return Object.keys(objects)
        .filter((k) => k.startsWith(prefix))
        .map((k) => ({ path: k.slice(prefix.length), size: objects[k]!.length }));
    },
    async read(key: string) {
      requests.push(`read ${key}`);
      if (failReads) throw new Error('SlowDown');
      return (async function* () {
        yield new TextEncoder().encode(objects[key]!);
      })();
    },
  } as unknown as ObjectStore;
  return { store, requests };
}

const job = 'job_01bbbbbbbbbbbbbbbbbbbbbbbb';
const detail = (attempts: Array<typeof container | Record<string, unknown>>) => ({ jobName: job, jobId: 'b-1', status: 'SUCCEEDED' as const, attempts });

describe('withCommandRuns', () => {
  it("reads the reports of the job's ended attempts, each by its attempt number", async () => {
    const { store, requests } = bucket({
      [`runs/${job}/1.json`]: JSON.stringify({ attempt: 1, commandStartedAt: null }),
      [`runs/${job}/2.json`]: JSON.stringify({ attempt: 2, commandStartedAt: 2_030_000, commandStoppedAt: 2_090_000 }),
    });
    const second = { ...container, startedAt: 2_000_000, stoppedAt: 2_100_000 };
    const { startedAt: _, ...firstUnstarted } = container;
    expect((await withCommandRuns(store, detail([container, second]))).attempts).toEqual([firstUnstarted, { ...second, startedAt: 2_030_000, stoppedAt: 2_090_000 }]);
    expect(requests).toEqual([`list runs/${job}/`, `read runs/${job}/1.json`, `read runs/${job}/2.json`]);
  });

  it('asks the bucket nothing while no attempt has ended', async () => {
    const { store, requests } = bucket({});
    const running = { jobName: job, jobId: 'b-1', status: 'RUNNING' as const, startedAt: 1 };
    expect(await withCommandRuns(store, running)).toBe(running);
    expect(await withCommandRuns(store, { ...running, attempts: [{ startedAt: 1 }] })).toEqual({ ...running, attempts: [{ startedAt: 1 }] });
    expect(requests).toEqual([]);
  });

  it("bills Batch's times for an attempt without a report, or with one that does not parse or names another attempt", async () => {
    const { store } = bucket({ [`runs/${job}/1.json`]: '{"attempt":1,', [`runs/${job}/2.json`]: JSON.stringify({ attempt: 1, commandStartedAt: null }) });
    expect((await withCommandRuns(store, detail([container, container, container]))).attempts).toEqual([container, container, container]);
  });

  it('fails when a report cannot be read, so the event is retried rather than billed on a guess', async () => {
    const { store } = bucket({ [`runs/${job}/1.json`]: '{}' }, true);
    await expect(withCommandRuns(store, detail([container]))).rejects.toThrow('SlowDown');
  });
});

import { describe, expect, it } from 'vitest';
import { defaultPolicy } from '../../../domain/policy';
import { InMemoryEventStore } from '../../../functions/adapters/in-memory-event-store';
import { load } from '../../../functions/aggregates/aggregate';
import { jobs } from '../../../functions/aggregates/jobs';
import type { Deps } from '../../../functions/deps';
import { observeComputeJob } from '../../../functions/observe-compute';
import { jobId, jobQueued, submitted } from '../domain/fixtures';

async function given(objects: Record<string, string> = {}) {
  const store = new InMemoryEventStore();
  await store.append([{ streamId: `job#${jobId}`, expectedVersion: 0, events: [jobQueued, submitted] }], { at: '2026-11-25T12:00:00.000Z' });
  // The bucket holds the nodes' reports of when each command ran.
  const bucket = {
    list: async (prefix: string) => Object.keys(objects).filter((k) => k.startsWith(prefix)).map((k) => ({ path: k.slice(prefix.length), size: objects[k]!.length })),
    read: async (key: string) => [new TextEncoder().encode(objects[key]!)],
  };
  const deps = { store, objects: bucket, policy: defaultPolicy, now: () => new Date('2026-11-25T12:01:00.000Z') } as unknown as Deps;
  return { deps, types: async () => (await load(store, jobs, jobId)).events.map((e) => e.event.type) };
}

describe('observeComputeJob', () => {
  it("ignores a multi-node job's node events: only the parent's status is the job's", async () => {
    const { deps, types } = await given();
    expect(await observeComputeJob(deps, { jobName: jobId, jobId: 'b-1#1', status: 'SUCCEEDED', stoppedAt: 1 }, {})).toBeNull();
    expect(await types()).toEqual(['JobQueued', 'BatchJobSubmitted']);
  });

  it('ignores compute jobs that are not ours, by name or because we have no such job', async () => {
    const { deps } = await given();
    expect(await observeComputeJob(deps, { jobName: 'nightly-etl', jobId: 'x', status: 'RUNNING' }, {})).toBeNull();
    expect(await observeComputeJob(deps, { jobName: 'job_01zzzzzzzzzzzzzzzzzzzzzzzz', jobId: 'x', status: 'RUNNING' }, {})).toBeNull();
  });

  it("records the parent's progress", async () => {
    const { deps, types } = await given();
    expect(await observeComputeJob(deps, { jobName: jobId, jobId: 'b-1', status: 'RUNNING', startedAt: Date.parse('2026-11-25T12:00:30.000Z') }, {})).toMatchObject({ status: 'running' });
    expect(await types()).toEqual(['JobQueued', 'BatchJobSubmitted', 'JobRunning']);
  });

  it("records ended attempts with the command's own run where the node reported it, which is what settlement bills", async () => {
    const t = (s: number) => Date.parse('2026-11-25T12:00:00.000Z') + s * 1000;
    // Attempt 1: its inputs could not be fetched. Attempt 2: inputs fetched for 20 s, the command ran
    // 30 s, then a Spot reclaim while the checkpoint was saved. Attempt 3 is running.
    const { deps } = await given({
      [`runs/${jobId}/1.json`]: JSON.stringify({ attempt: 1, commandStartedAt: null }),
      [`runs/${jobId}/2.json`]: JSON.stringify({ attempt: 2, commandStartedAt: t(120), commandStoppedAt: t(150) }),
    });
    const attempts = [
      { startedAt: t(0), stoppedAt: t(90), statusReason: 'Host EC2 (instance i-1) terminated.' },
      { startedAt: t(100), stoppedAt: t(155), statusReason: 'Host EC2 (instance i-2) terminated.' },
    ];
    await observeComputeJob(deps, { jobName: jobId, jobId: 'b-1', status: 'RUNNING', startedAt: t(160), attempts }, {});
    const recorded = (await load(deps.store, jobs, jobId)).events.map((e) => e.event).filter((e) => e.type === 'JobAttemptFailed');
    expect(recorded.map((e) => ({ startedAt: e.data.startedAt, stoppedAt: e.data.stoppedAt }))).toEqual([
      { startedAt: null, stoppedAt: new Date(t(90)).toISOString() },
      { startedAt: new Date(t(120)).toISOString(), stoppedAt: new Date(t(150)).toISOString() },
    ]);
  });
});

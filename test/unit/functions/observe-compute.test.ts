import { describe, expect, it } from 'vitest';
import { defaultPolicy } from '../../../domain/policy';
import { InMemoryEventStore } from '../../../functions/adapters/in-memory-event-store';
import { load } from '../../../functions/aggregates/aggregate';
import { jobs } from '../../../functions/aggregates/jobs';
import type { Deps } from '../../../functions/deps';
import { observeComputeJob } from '../../../functions/observe-compute';
import { jobId, jobQueued, submitted } from '../domain/fixtures';

async function given() {
  const store = new InMemoryEventStore();
  await store.append([{ streamId: `job#${jobId}`, expectedVersion: 0, events: [jobQueued, submitted] }], { at: '2026-11-25T12:00:00.000Z' });
  const deps = { store, policy: defaultPolicy, now: () => new Date('2026-11-25T12:01:00.000Z') } as unknown as Deps;
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
});

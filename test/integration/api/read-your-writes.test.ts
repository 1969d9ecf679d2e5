import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobs } from '../../../functions/aggregates/jobs';
import { listJobViews } from '../../../functions/views/job-views';
import { jobViews } from '../../../functions/views/projections';
import { signUp, startTestStack, type TestStack } from '../../support/local-stack';

// With the stream consumers off, nothing is projected after a request: what a list shows, the request
// wrote itself, in the same append as its events.
let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ consumeStreams: false });
}, 60_000);
afterAll(async () => stack?.drop(), 60_000);

const jobBody = { image: 'local/sh:1', command: ['true'], gpu_count: 1, max_runtime_seconds: 120 };
const viewOf = async (accountId: string, jobId: string) => (await listJobViews(stack.deps, accountId, { limit: 100 })).jobs.find((j) => j.job.jobId === jobId);

describe('read-your-writes: a created job is in the list at once', () => {
  it('lists a job the moment it is created, newest first, though no projection has run', async () => {
    // Given an account, with nothing consuming the event stream
    const alice = await signUp(stack.url, 'alice-ryw@example.com');

    // When it creates two jobs and lists at once
    const first = await alice.api.post('/v1/jobs', jobBody);
    const second = await alice.api.post('/v1/jobs', jobBody);
    const list = await alice.api.get('/v1/jobs');
    const queued = await alice.api.get('/v1/jobs?status=queued');

    // Then both are there, as the job endpoint answers them
    expect([first.status, second.status]).toEqual([201, 201]);
    expect(list.body.data.map((j: { id: string }) => j.id)).toEqual([second.body.id, first.body.id]);
    expect(list.body.data[0]).toEqual((await alice.api.get(`/v1/jobs/${second.body.id}`)).body);
    expect(queued.body.data.map((j: { id: string }) => j.id)).toEqual([second.body.id, first.body.id]);
  });

  it('leaves the entry as it is when the projection comes to the same version, and moves it on with a later one', async () => {
    // Given a job created with its entry inline
    const bob = await signUp(stack.url, 'bob-ryw@example.com');
    const created = await bob.api.post('/v1/jobs', jobBody);
    const streamId = jobs.streamId(created.body.id);
    const inline = await viewOf(bob.accountId, created.body.id);

    // When the projection applies the same stream version (a late or redelivered record)
    const stream = await stack.deps.store.readStream(streamId);
    await jobViews.apply(stack.deps, stream.events.at(-1)!);

    // Then the entry is unchanged
    expect(await viewOf(bob.accountId, created.body.id)).toEqual(inline);

    // When the job is cancelled and the projection applies that
    expect((await bob.api.post(`/v1/jobs/${created.body.id}/cancel`)).status).toBe(200);
    const after = await stack.deps.store.readStream(streamId);
    await jobViews.apply(stack.deps, after.events.at(-1)!);

    // Then the list shows the cancellation
    expect((await viewOf(bob.accountId, created.body.id))?.status).toBe('cancelled');
    expect((await bob.api.get('/v1/jobs')).body.data[0]).toMatchObject({ id: created.body.id, status: 'cancelled' });
  });
});

import { load } from './aggregates/aggregate';
import { jobs } from './aggregates/jobs';
import type { Deps } from './deps';
import { lambda } from './lambda';
import { streamConsumer } from './stream';
import { putJobView } from './views/job-views';

/**
 * Projection: keeps each account's job list (views table) in step with the job streams. It folds
 * the whole job stream, so a duplicate or reordered record rewrites the same view, and the view's
 * version guard drops anything older than what is there.
 */
export const make = (deps: Deps) =>
  streamConsumer('job#', async (stored) => {
    const { state, version } = await load(deps.store, jobs, stored.streamId.slice('job#'.length));
    if (state.status !== 'none') await putJobView(deps, state, version);
  });

export const handler = lambda(make);

import { load } from './aggregates/aggregate';
import { jobs } from './aggregates/jobs';
import type { Deps } from './deps';
import { lambda } from './lambda';
import { streamConsumer } from './stream';
import { putActiveJob } from './views/active-jobs';

/**
 * Projection: keeps the set of non-final jobs (views table) for the scheduled sweeps. It folds the
 * whole job stream, so a duplicate or reordered record writes the same item, and the item's version
 * guard drops anything older than what is there.
 */
export const make = (deps: Deps) =>
  streamConsumer('job#', async (stored) => {
    const { state, version } = await load(deps.store, jobs, stored.streamId.slice('job#'.length));
    if (state.status !== 'none') await putActiveJob(deps, state, version);
  });

export const handler = lambda(make);

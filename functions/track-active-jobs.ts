import type { Deps } from './deps';
import { lambda } from './lambda';
import { projectionConsumer } from './stream';
import { activeJobs } from './views/projections';

/** Keeps the set of non-final jobs the sweeps read in step with the job streams: the `active-jobs` projection's live side. */
export const make = (deps: Deps) => projectionConsumer(deps, [activeJobs]);

export const handler = lambda(make);

import type { Deps } from './deps';
import { lambda } from './lambda';
import { projectionConsumer } from './stream';
import { jobViews } from './views/projections';

/** Keeps each account's job list in step with the job streams: the `job-views` projection's live side. */
export const make = (deps: Deps) => projectionConsumer(deps, [jobViews]);

export const handler = lambda(make);

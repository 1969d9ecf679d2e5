import type { Deps } from './deps';
import { lambda } from './lambda';
import { projectionConsumer } from './stream';
import { accountSnapshots, monthlyVouchers, usageLines } from './views/projections';

/**
 * The live side of the projections of the account streams: usage lines from settlements, the
 * index of monthly vouchers the monthly grant walks, and account snapshots.
 */
export const make = (deps: Deps) => projectionConsumer(deps, [usageLines, monthlyVouchers, accountSnapshots]);

export const handler = lambda(make);

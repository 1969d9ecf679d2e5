import type { AccountEvent } from '../events/account-events';
import type { StoredEvent } from './adapters/event-store';
import { parseEvent } from './aggregates/aggregate';
import { accounts } from './aggregates/ledger';
import type { Deps } from './deps';
import { lambda } from './lambda';
import { METRIC, recordMetric } from './metrics';
import { projectionConsumer } from './stream';
import { accountSnapshots, monthlyVouchers, usageLines } from './views/projections';

/**
 * The live side of the projections of the account streams: usage lines from settlements, the
 * index of monthly vouchers the monthly grant walks, and account snapshots. It also counts the
 * GPU-seconds each settlement bills (a metric; a rebuild counts nothing).
 */
export const make = (deps: Deps) => projectionConsumer(deps, [usageLines, monthlyVouchers, accountSnapshots], countSettlement);

/** The GPU-seconds a settlement billed, trial and credits together, as a metric. */
function countSettlement(stored: StoredEvent): void {
  if (stored.type !== 'HoldSettled') return;
  const { data } = parseEvent(accounts, stored) as Extract<AccountEvent, { type: 'HoldSettled' }>;
  const gpuSeconds = data.trialGpuSecondsCharged + (data.creditsCharged ?? []).reduce((sum, credit) => sum + credit.gpuSeconds, 0);
  recordMetric(METRIC.gpuSecondsSettled, gpuSeconds);
}

export const handler = lambda(make);

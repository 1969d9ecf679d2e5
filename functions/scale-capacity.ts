import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { planCapacity, vcpusOf, NODE_GPUS } from '../domain/capacity';
import { isFinal } from '../domain/job/job';
import type { CapacityPool } from './adapters/compute';
import { sweepSettings, type Deps } from './deps';
import { lambda } from './lambda';
import { listActiveJobs } from './views/active-jobs';

const stateKey = (pool: string) => ({ pk: 'capacity', sk: pool });

/**
 * Scheduled capacity projection: each pool's minimum vCPUs follow the demand of queued, starting and
 * running jobs (single-node jobs on the Spot pool when there is one, everything else on demand),
 * within the pool's `maxvCpus` (the region's configured limit), and its desired vCPUs are raised to
 * it, so a burst does not wait for a scale-up from zero. Idle nodes are let go `capacityIdleSeconds`
 * after the demand that needed them. One update a pool a tick at most, and none when nothing
 * changes, so a repeated tick sends nothing. Returns what it changed.
 */
export const make = (deps: Deps) => async (): Promise<{ resized: Array<{ pool: string; minvCpus: number | null; desiredvCpus: number | null }> }> => {
  const { capacityIdleSeconds } = sweepSettings(deps);
  const now = deps.now().toISOString();
  const pools = await deps.capacity.pools();
  const demand = demandByPool(pools, (await listActiveJobs(deps)).map(({ state }) => state).filter((s) => !isFinal(s)).map((s) => s.job.gpuCount));
  const resized = [];
  for (const pool of pools) {
    const saved = await deps.doc.send(new GetCommand({ TableName: deps.tables.views, Key: stateKey(pool.name), ConsistentRead: true }));
    const plan = planCapacity(pool, demand.get(pool.name) ?? 0, (saved.Item?.neededAt as string | undefined) ?? null, now, capacityIdleSeconds);
    if (plan.minvCpus !== null || plan.desiredvCpus !== null) {
      await deps.capacity.resize(pool.name, {
        minvCpus: plan.minvCpus ?? pool.minvCpus,
        ...(plan.desiredvCpus !== null ? { desiredvCpus: plan.desiredvCpus } : {}),
      });
      resized.push({ pool: pool.name, minvCpus: plan.minvCpus, desiredvCpus: plan.desiredvCpus });
    }
    if (plan.neededAt !== (saved.Item?.neededAt ?? null)) {
      await deps.doc.send(new PutCommand({ TableName: deps.tables.views, Item: { ...stateKey(pool.name), kind: 'capacity', neededAt: plan.neededAt } }));
    }
  }
  return { resized };
};

/** vCPUs each pool must hold for these jobs (by GPU count). */
export function demandByPool(pools: CapacityPool[], gpuCounts: number[]): Map<string, number> {
  const spot = pools.find((p) => p.market === 'spot');
  const onDemand = pools.find((p) => p.market === 'on-demand');
  const demand = new Map<string, number>();
  for (const gpus of gpuCounts) {
    const pool = gpus <= NODE_GPUS && spot ? spot : onDemand;
    if (pool) demand.set(pool.name, (demand.get(pool.name) ?? 0) + vcpusOf(gpus));
  }
  return demand;
}

export const handler = lambda(make);

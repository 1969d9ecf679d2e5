/**
 * Capacity follows demand: a pool's minimum vCPUs track the GPUs its queued and running jobs need,
 * in whole p4d.24xlarge nodes, so a burst does not wait for a scale-up from zero; when demand drops,
 * the minimum stays up for an idle period (a job often follows a job) and is then let go.
 * Pure: time and the pool's state come in.
 */

/** One p4d.24xlarge: 8 A100s, 96 vCPUs. */
export const NODE_GPUS = 8;
export const NODE_VCPUS = 96;

/** vCPUs a job takes: 12 a GPU on one node, or whole nodes for a multi-node job. */
export const vcpusOf = (gpuCount: number) =>
  gpuCount > NODE_GPUS ? Math.ceil(gpuCount / NODE_GPUS) * NODE_VCPUS : gpuCount * (NODE_VCPUS / NODE_GPUS);

export interface PoolNow {
  minvCpus: number;
  maxvCpus: number;
  desiredvCpus: number;
}

export interface CapacityPlan {
  /** The minimum to set, or null to leave it. */
  minvCpus: number | null;
  /** The desired count to raise to, or null (Batch never lowers it on request). */
  desiredvCpus: number | null;
  /** When demand last needed the whole minimum (ISO), to keep for the next tick. */
  neededAt: string | null;
}

/**
 * Plans one pool: `demandVcpus` rounded up to whole nodes and capped at `maxvCpus` becomes the
 * minimum, and the desired count is raised to it; when demand needs less than the minimum, the
 * minimum stays until `idleSeconds` after demand last needed all of it (`neededAt`), then drops to it.
 * Returns nulls when nothing needs to change, so a repeated tick sends nothing.
 */
export function planCapacity(
  pool: PoolNow,
  demandVcpus: number,
  neededAt: string | null,
  now: string,
  idleSeconds: number,
): CapacityPlan {
  const wanted = Math.min(pool.maxvCpus, Math.ceil(demandVcpus / NODE_VCPUS) * NODE_VCPUS);
  let min = pool.minvCpus;
  if (wanted > pool.minvCpus) min = wanted;
  else if (wanted < pool.minvCpus) {
    const idleFor = neededAt === null ? Infinity : (Date.parse(now) - Date.parse(neededAt)) / 1000;
    if (idleFor >= idleSeconds) min = wanted;
  }
  return {
    minvCpus: min === pool.minvCpus ? null : min,
    desiredvCpus: wanted > pool.desiredvCpus ? wanted : null,
    neededAt: wanted >= pool.minvCpus ? now : neededAt,
  };
}

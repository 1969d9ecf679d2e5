import { PriceList } from '../../events/api/prices';
import type { GpuType } from '../../events/values';
import type { Deps } from '../deps';
import { json, route, type RouteOptions } from '../http/route';
import { lambda } from '../lambda';

/** GET /v1/prices (no key): the price book and hold rules, so a client can show what a job may cost before submitting it. */
export const schemas = { response: PriceList };

export const options: RouteOptions = { auth: 'none' };

export const make = (deps: Deps) =>
  route(deps, options, async () => {
    const { prices, minimumHeldSeconds, stopGraceSeconds, trialGpuSeconds } = deps.policy;
    const body: PriceList = {
      object: 'list',
      data: (Object.entries(prices) as Array<[GpuType, number]>).map(([gpuType, fen]) => ({ gpu_type: gpuType, per_gpu_hour: { amount: fen, currency: 'CNY' } })),
      minimum_held_seconds: minimumHeldSeconds,
      stop_grace_seconds: stopGraceSeconds,
      trial_gpu_seconds: trialGpuSeconds,
    };
    return json(200, body);
  });

export const handler = lambda(make);

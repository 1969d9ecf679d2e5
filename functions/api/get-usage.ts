import { UsageBody, UsageQuery } from '../../events/api/usage';
import type { Deps } from '../deps';
import { json, parse, route, type RouteOptions } from '../http/route';
import { lambda } from '../lambda';
import { listUsageLines } from '../views/usage-lines';

export const schemas = { query: UsageQuery, response: UsageBody };

export const options: RouteOptions = { auth: 'key' };

const iso = (value: string | undefined) => (value === undefined ? undefined : new Date(value).toISOString());

/**
 * GET /v1/usage?from=&to=: one line per job × funding source whose billed period ended in [from, to),
 * newest first, and their totals. Read from the usage projection, so a settlement may take a poll
 * interval to appear.
 */
export const make = (deps: Deps) =>
  route(deps, options, async ({ event, accountId }) => {
    const query = parse(UsageQuery, event.queryStringParameters ?? {}, 'query');
    const lines = await listUsageLines(deps, accountId, { from: iso(query.from), to: iso(query.to) });
    const data = lines.map((line) => ({
      job_id: line.jobId,
      gpu_type: line.gpuType as 'a100',
      gpu_seconds: line.gpuSeconds,
      trial_gpu_seconds: line.trialGpuSeconds,
      cost: { amount: line.cost, currency: 'CNY' as const },
      source: line.source === 'trial' ? ('trial' as const) : ('credit' as const),
      credit_id: line.source === 'trial' ? null : line.source,
      period_start: line.periodStart,
      period_end: line.periodEnd,
    }));
    const sum = (pick: (line: (typeof lines)[number]) => number) => lines.reduce((total, line) => total + pick(line), 0);
    return json(200, {
      object: 'usage',
      data,
      total: { gpu_seconds: sum((l) => l.gpuSeconds), trial_gpu_seconds: sum((l) => l.trialGpuSeconds), cost: { amount: sum((l) => l.cost), currency: 'CNY' } },
    });
  });

export const handler = lambda(make);

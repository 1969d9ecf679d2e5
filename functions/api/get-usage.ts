import { UsageBody, UsageQuery } from '../../events/api/usage';
import type { Deps } from '../deps';
import { json, parse, route, type RouteOptions } from '../http/route';
import { lambda } from '../lambda';
import { listUsageLines } from '../views/usage-lines';

export const schemas = { query: UsageQuery, response: UsageBody };

export const options: RouteOptions = { auth: 'key' };

/** The instants a usage line's key can hold: ISO strings of years 0000 to 9999, which sort as strings. */
const FIRST = Date.parse('0000-01-01T00:00:00.000Z');
const LAST = Date.parse('9999-12-31T23:59:59.999Z');

/**
 * A bound of the query as the key's UTC ISO string. An offset can carry a valid time past year 9999 or
 * before year 0000 (`9999-12-31T23:00:00-05:00`), where `toISOString` writes `+010000-…` or `-000001-…`,
 * strings that sort on the wrong side of every key: such a bound is clamped to the first or last instant.
 */
const iso = (value: string | undefined) =>
  value === undefined ? undefined : new Date(Math.min(LAST, Math.max(FIRST, Date.parse(value)))).toISOString();

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

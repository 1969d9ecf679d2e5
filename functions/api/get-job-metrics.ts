import { lttb } from '../../domain/metrics/downsample';
import { metricLimits } from '../../domain/metrics/limits';
import { JobMetricsBody, JobMetricsQuery } from '../../events/api/metrics';
import type { Deps } from '../deps';
import { json, parse, route, type RouteOptions } from '../http/route';
import { lambda } from '../lambda';
import { metricStore, type StoredPoint } from '../job-metrics/metric-store';
import { loadOwnJob } from './job-route';

export const schemas = { query: JobMetricsQuery, response: JobMetricsBody };

export const options: RouteOptions = { auth: 'key' };

const present = (p: StoredPoint) => ({ step: p.step, time: new Date(p.timeMs).toISOString(), value: p.value });

/**
 * GET /v1/jobs/{id}/metrics?name=&max_points=: each metric read from the job's log so far, by name,
 * oldest point first, downsampled to `max_points` (LTTB: first and last points kept, shape kept), or
 * to fewer when its series together would pass {@link metricLimits.maxPointsPerResponse}.
 */
export const make = (deps: Deps) =>
  route(deps, options, async (request) => {
    const query = parse(JobMetricsQuery, request.event.queryStringParameters ?? {}, 'query');
    const { state } = await loadOwnJob(deps, request);
    const store = metricStore(deps);
    // Two points are the first and the last: read just those (what `sx run`'s status line asks for).
    const read = query.max_points === 2 ? store.readEnds.bind(store) : store.read.bind(store);
    const series = await read(state.job.jobId, deps.now().getTime(), query.name);
    const nonEmpty = [...series].filter(([, points]) => points.length > 0).sort(([a], [b]) => (a < b ? -1 : 1));
    // Many long series at once share the answer's budget: each is cut to its share.
    const perSeries = Math.min(query.max_points, Math.max(2, Math.floor(metricLimits.maxPointsPerResponse / Math.max(1, nonEmpty.length))));
    const data = nonEmpty
      .map(([name, points]) => ({
        name,
        points: lttb(points, perSeries, (_, i) => i, (p) => p.value).map(present),
        last: present(points[points.length - 1]!),
      }));
    return json(200, { data }, { 'cache-control': 'no-store' });
  });

export const handler = lambda(make);

import type { KnownJobState } from '../../domain/job/job';
import type { JobEvent } from '../../events/job-events';
import type { StoredEvent } from '../adapters/event-store';
import { load } from '../aggregates/aggregate';
import { jobs } from '../aggregates/jobs';
import type { Deps } from '../deps';
import { notFound } from '../http/problem';
import type { ApiRequest } from '../http/route';

/**
 * Loads the job named by the `{id}` path parameter, as its owner sees it.
 * @throws HttpProblem 404 for a malformed id, an unknown job or another account's job (same answer).
 */
export async function loadOwnJob(
  deps: Deps,
  request: ApiRequest,
): Promise<{ state: KnownJobState; events: Array<{ stored: StoredEvent; event: JobEvent }> }> {
  const jobId = request.event.pathParameters?.id ?? '';
  if (!/^job_[0-9a-z]{26}$/.test(jobId)) throw notFound(`No job ${jobId}`);
  const { state, events } = await load(deps.store, jobs, jobId);
  if (state.status === 'none' || state.job.accountId !== request.accountId) throw notFound(`No job ${jobId}`);
  return { state, events };
}

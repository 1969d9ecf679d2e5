import { decideSubmission } from '../../domain/job-ledger';
import { CreateJobRequest, JobBody } from '../../events/api/jobs';
import { fold } from '../aggregates/aggregate';
import { jobs } from '../aggregates/jobs';
import { accounts } from '../aggregates/ledger';
import { loadAccount } from '../views/account-snapshots';
import { inlineJobView } from '../views/job-views';
import { retryOnConflict } from '../adapters/with-retry';
import type { Deps } from '../deps';
import { resolveInputs } from '../files/inputs';
import { InvalidMetricDefinitionError } from '../../domain/metrics/definitions';
import { compileJobDefinitions } from '../job-metrics/regex-engine';
import { invalidRequest, notFound } from '../http/problem';
import { json, parse, route, type RouteOptions } from '../http/route';
import { lambda } from '../lambda';
import { presentJob } from './present';
import type { KnownJobState } from '../../domain/job/job';

export const schemas = { body: CreateJobRequest, response: JobBody, status: 201 };

export const options: RouteOptions = { auth: 'key', idempotent: true };

/** POST /v1/jobs: places a hold on the account and queues the job against it, in one atomic write. */
export const make = (deps: Deps) =>
  route(deps, options, async ({ body, accountId }) => {
    const request = parse(CreateJobRequest, body);
    const metricDefinitions = request.metric_definitions ?? [];
    try {
      await compileJobDefinitions(metricDefinitions);
    } catch (error) {
      if (!(error instanceof InvalidMetricDefinitionError)) throw error;
      throw invalidRequest(error.message, [{ path: `metric_definitions.${error.index}`, message: error.detail }]);
    }
    const inputs = await resolveInputs(deps, accountId, request.inputs ?? []);
    const jobId = deps.ids.job();
    const state = await retryOnConflict(async () => {
      const account = await loadAccount(deps, accountId);
      if (account.state.status !== 'open') throw notFound('No such account');
      const now = deps.now().toISOString();
      const submit = {
        jobId,
        accountId,
        name: request.name ?? null,
        image: request.image,
        command: request.command,
        env: request.env ?? {},
        gpuType: request.gpu_type,
        gpuCount: request.gpu_count,
        maxRuntimeSeconds: request.max_runtime_seconds,
        ...(metricDefinitions.length > 0 ? { metricDefinitions } : {}),
        ...(inputs.length > 0 ? { inputs } : {}),
      };
      const decided = decideSubmission(account.state, submit, deps.policy, now, account.quotas);
      const job = fold(jobs, jobs.initial(), decided.job) as KnownJobState;
      await deps.store.append(
        [
          { streamId: jobs.streamId(jobId), expectedVersion: 0, events: decided.job },
          { streamId: accounts.streamId(accountId), expectedVersion: account.version, events: decided.account },
        ],
        // The job's list entry in the same write: the caller's next list shows the job (read-your-writes).
        { at: now, metadata: { actor: accountId }, inline: [inlineJobView(job, decided.job.length)] },
      );
      return job;
    });
    return json(201, presentJob(state, deps.now(), deps.files), { location: `/v1/jobs/${jobId}` });
  });

export const handler = lambda(make);

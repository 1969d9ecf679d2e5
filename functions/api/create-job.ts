import { decideSubmission } from '../../domain/job-ledger';
import { CreateJobRequest, JobBody } from '../../events/api/jobs';
import { fold } from '../aggregates/aggregate';
import { jobs } from '../aggregates/jobs';
import { handleCommands, writeTo } from '../command-handler';
import { inlineJobView } from '../views/job-views';
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
    const state = await handleCommands(
      deps,
      async ({ now, loadAccount }) => {
        const account = await loadAccount(accountId);
        if (account.state.status !== 'open') throw notFound('No such account');
        const decided = decideSubmission(
          { type: 'SubmitJob', data: submit, metadata: { now, policy: deps.policy } },
          { account: account.state, quotas: account.quotas },
        );
        const job = fold(jobs, jobs.initialState(), decided.job) as KnownJobState;
        return {
          // A new job's stream must not exist yet: version 0.
          writes: [writeTo({ streamId: jobs.streamId(jobId), version: 0 }, decided.job), writeTo(account, decided.account)],
          // The job's list entry in the same write: the caller's next list shows the job (read-your-writes).
          inline: [inlineJobView(job, decided.job.length)],
          result: job,
        };
      },
      { metadata: { actor: accountId } },
    );
    return json(201, presentJob(state, deps.now(), deps.files), { location: `/v1/jobs/${jobId}` });
  });

export const handler = lambda(make);

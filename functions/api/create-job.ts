import { z } from 'zod';
import { decideSubmission } from '../../domain/job-ledger';
import { GpuType } from '../../events/values';
import { accounts, fold, jobs, load } from '../aggregates';
import { retryOnConflict } from '../adapters/with-retry';
import type { Deps } from '../deps';
import { notFound } from '../http/problem';
import { json, parse, route } from '../http/route';
import { lambda } from '../lambda';
import { presentJob } from './present';
import type { KnownJobState } from '../../domain/job/job';

const EnvName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, 'must be a shell variable name').refine((name) => !name.startsWith('SX_'), 'SX_ variables are reserved');

export const CreateJobRequest = z.strictObject({
  name: z.string().min(1).max(128).optional(),
  image: z.string().min(1).max(512).regex(/^[a-z0-9][\w.\-/:@]*$/i, 'must be an image reference like registry/repo:tag'),
  command: z.array(z.string().max(4096)).min(1).max(256),
  env: z
    .record(EnvName, z.string().max(4096))
    .refine((env) => Object.keys(env).length <= 100, 'at most 100 variables')
    .refine((env) => Object.entries(env).reduce((n, [k, v]) => n + k.length + v.length, 0) <= 32 * 1024, 'at most 32 KiB in all')
    .optional(),
  gpu_type: GpuType.default('a100'),
  gpu_count: z
    .number()
    .int()
    .refine((n) => (n >= 1 && n <= 8) || (n % 8 === 0 && n >= 16 && n <= 64), 'must be 1 to 8, or a multiple of 8 up to 64 (multi-node)'),
  max_runtime_seconds: z.number().int().min(60).max(1_209_600).default(86_400),
});

/** POST /v1/jobs: places a hold on the account and queues the job against it, in one atomic write. */
export const make = (deps: Deps) =>
  route(deps, { auth: 'key' }, async ({ body, accountId }) => {
    const request = parse(CreateJobRequest, body);
    const jobId = deps.ids.job();
    const state = await retryOnConflict(async () => {
      const account = await load(deps.store, accounts, accountId);
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
      };
      const decided = decideSubmission(account.state, submit, deps.policy, now);
      await deps.store.append(
        [
          { streamId: jobs.streamId(jobId), expectedVersion: 0, events: decided.job },
          { streamId: accounts.streamId(accountId), expectedVersion: account.version, events: decided.account },
        ],
        { at: now, metadata: { actor: accountId } },
      );
      return fold(jobs, jobs.initial(), decided.job) as KnownJobState;
    });
    return json(201, presentJob(state, deps.now(), deps.files), { location: `/v1/jobs/${jobId}` });
  });

export const handler = lambda(make);

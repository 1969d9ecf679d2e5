import type * as z from 'zod';
import { isFinal } from '../../domain/job/job';
import type { JobInputBody } from '../../events/api/jobs';
import type { JobInput } from '../../events/job-events';
import { outputPrefix } from '../adapters/compute';
import { load } from '../aggregates/aggregate';
import { fileRegistries } from '../aggregates/files';
import { jobs } from '../aggregates/jobs';
import type { Deps } from '../deps';
import { invalidRequest } from '../http/problem';

const ARCHIVE = /\.(tar|tar\.gz|tgz|zip)$/i;

/**
 * Resolves a job's inputs to where their bytes are: each file must be a `ready` file of the account,
 * each job a final job of the account. Another account's file or job is reported exactly like one
 * that does not exist.
 * @throws HttpProblem 400 `invalid_request` naming every input that cannot be read.
 */
export async function resolveInputs(deps: Pick<Deps, 'store'>, accountId: string, inputs: Array<z.output<typeof JobInputBody>>): Promise<JobInput[]> {
  if (inputs.length === 0) return [];
  const files = inputs.some((i) => 'file_id' in i) ? (await load(deps.store, fileRegistries, accountId)).state.files : {};
  const errors: Array<{ path: string; message: string }> = [];
  const resolved: JobInput[] = [];
  for (const [index, input] of inputs.entries()) {
    if ('file_id' in input) {
      const file = files[input.file_id];
      const path = `inputs.${index}.file_id`;
      if (!file || file.status === 'deleted') errors.push({ path, message: `input ${input.name}: no file ${input.file_id}` });
      else if (file.status !== 'ready') errors.push({ path, message: `input ${input.name}: file ${input.file_id} is ${file.status}, not ready` });
      else if (input.extract && !ARCHIVE.test(file.filename)) {
        errors.push({ path: `inputs.${index}.extract`, message: `input ${input.name}: ${file.filename} is not a .tar, .tar.gz, .tgz or .zip archive` });
      } else resolved.push({ name: input.name, kind: 'file', fileId: file.fileId, key: file.key, filename: file.filename, extract: input.extract ?? false });
    } else {
      const { state } = await load(deps.store, jobs, input.job_id);
      const path = `inputs.${index}.job_id`;
      if (state.status === 'none' || state.job.accountId !== accountId) errors.push({ path, message: `input ${input.name}: no job ${input.job_id}` });
      else if (!isFinal(state)) errors.push({ path, message: `input ${input.name}: job ${input.job_id} is ${state.status}; its outputs are there once it has ended` });
      else resolved.push({ name: input.name, kind: 'job', jobId: input.job_id, prefix: outputPrefix(input.job_id) });
    }
  }
  if (errors.length > 0) throw invalidRequest(`The inputs cannot be read: ${errors.map((e) => e.message).join('; ')}`, errors);
  return resolved;
}

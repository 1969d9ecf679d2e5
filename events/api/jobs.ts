import * as z from 'zod';
import { defineSchema } from '../define-schema';
import { FailureReason, GpuType, Int, NonEmptyString, NullableString } from '../values';
import { ListQuery, MoneyBody, NullableTimestamp, Timestamp, listOf } from './common';

const EnvName = /* @__PURE__ */ defineSchema(() => z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, 'must be a shell variable name')
  .refine((name) => !name.startsWith('SX_'), 'SX_ variables are reserved'));

/** `POST /v1/jobs` body. */
const InputName = /* @__PURE__ */ defineSchema(() => z.string().regex(/^[a-z0-9_-]{1,64}$/, 'must match [a-z0-9_-]{1,64}'));

/** One input of `POST /v1/jobs`: a `ready` file (unpacked when `extract`), or a final job's whole output directory. */
export const JobInputBody = /* @__PURE__ */ defineSchema(() => z.union([
  z.strictObject({ name: InputName, file_id: z.string().regex(/^file_[0-9a-z]{26}$/, 'must be a file id'), extract: z.boolean().optional() }),
  z.strictObject({ name: InputName, job_id: z.string().regex(/^job_[0-9a-z]{26}$/, 'must be a job id') }),
]));

export const CreateJobRequest = /* @__PURE__ */ defineSchema(() => z.strictObject({
  name: NonEmptyString.max(128).optional(),
  image: NonEmptyString.max(512).regex(/^[a-z0-9][\w.\-/:@]*$/i, 'must be an image reference like registry/repo:tag'),
  command: z.array(z.string().max(4096)).min(1).max(256),
  env: z
    .record(EnvName, z.string().max(4096))
    .refine((env) => Object.keys(env).length <= 100, 'at most 100 variables')
    .refine((env) => Object.entries(env).reduce((n, [k, v]) => n + k.length + v.length, 0) <= 32 * 1024, 'at most 32 KiB in all')
    .optional(),
  gpu_type: GpuType.default('a100'),
  gpu_count: z
    .union([Int.min(1).max(8), Int.min(16).max(64).multipleOf(8)], { error: 'must be 1 to 8, or a multiple of 8 up to 64 (multi-node)' })
    .describe('1 to 8 (one node), or a multiple of 8 up to 64 (multi-node)'),
  max_runtime_seconds: Int.min(60).max(1_209_600).default(86_400),
  metric_definitions: z
    .array(z.strictObject({ name: z.string().min(1).max(64), regex: z.string().min(1).max(512) }))
    .max(20)
    .optional()
    .describe("Metrics read from each log line: the first capture group of `regex` (RE2 syntax) is the value. Without them, JSON object lines are read. A job's regexes together may compile to at most 2,000 RE2 instructions; a regex past that, not RE2 syntax or without a capture group is refused (400)."),
  inputs: z
    .array(JobInputBody)
    .max(16)
    .refine((inputs) => new Set(inputs.map((i) => i.name)).size === inputs.length, 'input names must be unique')
    .optional()
    .describe('Files and earlier jobs\' outputs, read-only under `$SX_INPUT_DIR/<name>/` before the command starts.'),
}).meta({
  id: 'CreateJobRequest',
  examples: [{ name: 'char-lm', image: 'registry.example.com/team/char-lm:1.2', command: ['python', 'train.py', '--epochs', '3'], gpu_count: 1, max_runtime_seconds: 3600 }],
}));
export type CreateJobRequest = z.input<typeof CreateJobRequest>;

export const JobStatus = /* @__PURE__ */ defineSchema(() => z
  .enum(['queued', 'starting', 'running', 'succeeded', 'failed', 'cancelled'])
  .meta({ id: 'JobStatus', description: '`succeeded`, `failed` and `cancelled` are final: they never change again.' }));

/** `GET /v1/jobs` query. */
export const ListJobsQuery = /* @__PURE__ */ defineSchema(() => ListQuery.extend({ status: JobStatus.optional() }));

/** The job object (API.md), with extra fields `held_seconds`, `cancel_requested_at`, `exit_code`, `status_reason`. */
export const JobBody = /* @__PURE__ */ defineSchema(() => z.object({
  id: z.string().meta({ examples: ['job_01jdq8m5x2v7k9a3b4c6d8e0fg'] }),
  object: z.literal('job'),
  name: NullableString,
  status: JobStatus,
  image: z.string(),
  command: z.array(z.string()),
  gpu_type: GpuType,
  gpu_count: Int,
  max_runtime_seconds: Int,
  /** Wall-clock seconds the hold pays for, stop grace included: the job never runs longer. */
  held_seconds: Int,
  created_at: Timestamp,
  started_at: NullableTimestamp,
  finished_at: NullableTimestamp,
  cancel_requested_at: NullableTimestamp,
  failure_reason: FailureReason.nullable(),
  exit_code: Int.nullable(),
  status_reason: NullableString,
  output_uri: NullableString,
  /** What the job reads, as it was given (absent only in job views written before inputs existed). */
  inputs: z.array(z.union([z.object({ name: z.string(), file_id: z.string(), extract: z.boolean() }), z.object({ name: z.string(), job_id: z.string() })])).optional(),
  usage: z.object({ gpu_seconds: Int, cost: MoneyBody, trial_gpu_seconds: Int }).meta({
    id: 'JobUsage',
    description: 'GPU-seconds used so far (running time × GPUs), the part the trial paid, and the money charged for the rest.',
  }),
}).meta({ id: 'Job', description: 'A training job: what runs, where it is, and what it has cost.' }));
export type JobBody = z.infer<typeof JobBody>;

export const JobList = /* @__PURE__ */ defineSchema(() => listOf(JobBody, 'JobList'));

/** The types of a job's recorded history: the webhook's job events and two that only the history shows. */
export const JobEventType = /* @__PURE__ */ defineSchema(() => z
  .enum(['job.queued', 'job.starting', 'job.running', 'job.attempt_failed', 'job.cancel_requested', 'job.stop_requested', 'job.succeeded', 'job.failed', 'job.cancelled'])
  .meta({ id: 'JobEventType' }));

/** One entry of `GET /v1/jobs/{id}/events`: the job as it was right after the event. */
export const JobEventBody = /* @__PURE__ */ defineSchema(() => z.object({
  id: z.string(),
  type: JobEventType,
  created_at: Timestamp,
  data: z.object({ job: JobBody }),
}).meta({ id: 'JobEvent' }));
export const JobEventList = /* @__PURE__ */ defineSchema(() => z.object({ object: z.literal('list'), data: z.array(JobEventBody) }).meta({ id: 'JobEventList' }));

/** `GET /v1/jobs/{id}/outputs` and `/checkpoints`: every file the job left there, each with a signed download URL. */
export const JobFileList = /* @__PURE__ */ defineSchema(() => z.object({
  object: z.literal('list'),
  data: z.array(z.object({ path: z.string(), size: Int, url: z.string(), expires_at: Timestamp }).meta({ id: 'JobFile', description: 'A file the job left, with a signed download URL.' })),
}).meta({ id: 'JobFileList' }));
export type JobFileList = z.infer<typeof JobFileList>;

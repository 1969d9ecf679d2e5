import * as z from 'zod';
import type { ComputeJobDetail } from './adapters/compute';
import { runPrefix } from './adapters/compute';
import type { ObjectStore } from './adapters/object-store';
import { logger } from './logger';

/**
 * What a node reports about one attempt of a job (infra/cdk/node/sx-job-sync.sh writes it to
 * `runs/<job>/<attempt>.json`): when the job's command really started (null: it never did, its inputs
 * or checkpoint could not be fetched) and ended (absent while unknown), in epoch milliseconds.
 */
export const CommandRun = z.object({
  attempt: z.number().int().min(1),
  commandStartedAt: z.number().int().nullable(),
  commandStoppedAt: z.number().int().optional(),
});
export type CommandRun = z.infer<typeof CommandRun>;

type Attempt = NonNullable<ComputeJobDetail['attempts']>[number];

/**
 * An attempt as billed: Batch's start and stop narrowed to the command's own run when the node
 * reported it. Batch's `RUNNING` begins when the container starts, before the node has fetched the
 * inputs, and its stop comes after the node has saved the outputs; neither transfer is the job's
 * running time. The report can only narrow Batch's span, never widen it (the node is ours, but its
 * clock and the job's marks are not trusted further): an attempt whose command never started loses
 * its start (billed nothing); a missing report or end leaves Batch's time.
 */
export function billedAttempt(attempt: Attempt, run: CommandRun | undefined): Attempt {
  if (!run || attempt.startedAt === undefined) return attempt;
  if (run.commandStartedAt === null) {
    const { startedAt: _notRun, ...rest } = attempt;
    return rest;
  }
  const upper = attempt.stoppedAt ?? Number.POSITIVE_INFINITY;
  const startedAt = Math.min(Math.max(run.commandStartedAt, attempt.startedAt), upper);
  const stoppedAt = run.commandStoppedAt === undefined || attempt.stoppedAt === undefined ? attempt.stoppedAt : Math.min(Math.max(run.commandStoppedAt, startedAt), upper);
  return { ...attempt, startedAt, ...(stoppedAt === undefined ? {} : { stoppedAt }) };
}

/**
 * The detail with each ended attempt billed from the node's reports ({@link billedAttempt}). Reads
 * the bucket only when an attempt has ended (that is when billing counts it): one list of the job's
 * reports, then each report. A report that does not parse leaves Batch's times.
 * @throws when the bucket cannot be read (the event is retried: billing never guesses).
 */
export async function withCommandRuns(objects: ObjectStore, detail: ComputeJobDetail): Promise<ComputeJobDetail> {
  const attempts = detail.attempts;
  if (!attempts?.some((a) => a.stoppedAt !== undefined && a.startedAt !== undefined)) return detail;
  const prefix = runPrefix(detail.jobName);
  const listed = new Set((await objects.list(prefix)).map((o) => o.path));
  const runs = await Promise.all(
    attempts.map(async (_, index) => {
      const path = `${index + 1}.json`;
      return listed.has(path) ? readRun(objects, prefix + path, index + 1) : undefined;
    }),
  );
  return { ...detail, attempts: attempts.map((a, index) => billedAttempt(a, runs[index])) };
}

async function readRun(objects: ObjectStore, key: string, attempt: number): Promise<CommandRun | undefined> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of await objects.read(key)) chunks.push(chunk);
  try {
    const run = CommandRun.parse(JSON.parse(Buffer.concat(chunks).toString('utf8')));
    return run.attempt === attempt ? run : undefined;
  } catch (error) {
    logger.warn("ignoring a node's command report that does not parse", { key, error: String(error) });
    return undefined;
  }
}

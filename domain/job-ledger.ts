import type { JobInput } from '../events/job-events';
import type { AccountEvent } from '../events/account-events';
import type { JobEvent } from '../events/job-events';
import type { GpuType } from '../events/values';
import { decideJob, finalEventOf } from './job/decide';
import { initialJobState } from './job/job';
import type { AccountState } from './ledger/account';
import { decideLedger, planHold } from './ledger/decide';
import type { Policy } from './policy';
import { checkQuotas, type QuotaState } from './quotas';

/** Decisions that span a job and its account, appended together in one atomic write. */
export interface JobAndLedgerEvents {
  job: JobEvent[];
  account: AccountEvent[];
}

export interface SubmitJob {
  jobId: string;
  accountId: string;
  name: string | null;
  image: string;
  command: string[];
  env: Record<string, string>;
  gpuType: GpuType;
  gpuCount: number;
  maxRuntimeSeconds: number;
  /** Validated by `compileDefinitions` (domain/metrics); absent when the job defines none. */
  metricDefinitions?: Array<{ name: string; regex: string }>;
  /** Resolved and checked by the caller (ready files and final jobs of the same account); absent when none. */
  inputs?: JobInput[];
}

/** Submits a job: its time and the service's rules ride on the command, as on every ledger command. */
export type SubmitJobCommand = { type: 'SubmitJob'; data: SubmitJob; metadata: { now: string; policy: Policy } };

/**
 * Submission: the ledger places a hold and the job is queued against it, carrying the hold's funding
 * (trial share, rate, credit shares) so its usage is split exactly as the settlement will split it.
 * With `quotas` (folded from the same account stream, `domain/quotas.ts`), the account's quotas are
 * checked after its balance, so a job the account cannot pay for is a 402 whatever the quotas say.
 * @throws InsufficientBalanceError when the account cannot pay for the minimum held time.
 * @throws RateLimitedError when the job would exceed a quota for now; QuotaExceededError when it always would.
 */
export function decideSubmission(command: SubmitJobCommand, { account, quotas }: { account: AccountState; quotas?: QuotaState }): JobAndLedgerEvents {
  const { data: submit, metadata } = command;
  const { now, policy } = metadata;
  const hold = { jobId: submit.jobId, gpuType: submit.gpuType, gpuCount: submit.gpuCount, maxRuntimeSeconds: submit.maxRuntimeSeconds };
  const plan = planHold(account, hold, policy, now);
  if (quotas) checkQuotas(quotas, submit.gpuCount, policy, now);
  return {
    account: decideLedger({ type: 'PlaceHold', data: hold, metadata }, account),
    job: decideJob(
      {
        type: 'QueueJob',
        data: {
          ...submit,
          heldSeconds: plan.seconds,
          graceSeconds: plan.graceSeconds,
          stopReason: plan.stopReason,
          trialGpuSeconds: plan.trialGpuSeconds,
          ratePerGpuHour: plan.ratePerGpuHour,
          credits: plan.credits,
          queuedAt: now,
        },
        metadata: { now },
      },
      initialJobState(),
    ),
  };
}

/**
 * The ledger's half of a job command: when `jobEvents` end the job, its hold is settled for the
 * same billed seconds; otherwise nothing. Settling a settled hold is `[]`.
 */
export function settlementFor(jobEvents: JobEvent[], jobId: string, account: AccountState, policy: Policy, now: string): AccountEvent[] {
  const final = finalEventOf(jobEvents);
  if (!final) return [];
  return decideLedger(
    { type: 'SettleHold', data: { jobId, runSeconds: final.data.runSeconds, stoppedAt: final.data.finishedAt }, metadata: { now, policy } },
    account,
  );
}

import type { AccountEvent } from '../../../events/account-events';
import type { JobEvent } from '../../../events/job-events';
import { defaultPolicy } from '../../../domain/policy';

export const accountId = 'acct_01aaaaaaaaaaaaaaaaaaaaaaaa';
export const jobId = 'job_01bbbbbbbbbbbbbbbbbbbbbbbb';
export const otherJobId = 'job_01cccccccccccccccccccccccc';
export const policy = defaultPolicy;

export const at = (second: number) => new Date(Date.UTC(2026, 10, 25, 12, 0, second)).toISOString();
/** A command's metadata: its time and the service's rules (ledger commands read the policy from it). */
export const meta = (second: number) => ({ metadata: { now: at(second), policy } });

export const accountOpened: AccountEvent = {
  type: 'AccountOpened',
  data: { accountId, email: 'ada@example.com', openedAt: at(0), trial: { gpuType: 'a100', gpuSeconds: 300 } },
};

export const holdPlaced = (overrides: Partial<Extract<AccountEvent, { type: 'HoldPlaced' }>['data']> = {}): AccountEvent => ({
  type: 'HoldPlaced',
  data: { jobId, gpuType: 'a100', gpuCount: 1, seconds: 120, trialGpuSeconds: 120, placedAt: at(1), ...overrides },
});

/** A 2-GPU job held for 100 s (70 s of runtime, then 30 s of grace) because the account could pay no more. */
export const jobQueued: Extract<JobEvent, { type: 'JobQueued' }> = {
  type: 'JobQueued',
  data: {
    jobId,
    accountId,
    name: 'llama-lora',
    image: 'ghcr.io/acme/train:1',
    command: ['python', 'train.py'],
    env: {},
    gpuType: 'a100',
    gpuCount: 2,
    maxRuntimeSeconds: 3600,
    heldSeconds: 100,
    graceSeconds: 30,
    stopReason: 'insufficient_balance',
    trialGpuSeconds: 200,
    queuedAt: at(1),
  },
};
export const submitted: JobEvent = { type: 'BatchJobSubmitted', data: { batchJobId: 'b-1', submittedAt: at(2) } };
export const starting: JobEvent = { type: 'JobStarting', data: { at: at(3) } };
export const running: JobEvent = { type: 'JobRunning', data: { startedAt: at(4) } };

import type { AccountEvent } from '../../events/account-events';
import type { GpuType } from '../../events/values';
import { ConflictError, InsufficientBalanceError, NotFoundError } from '../errors';
import type { Policy } from '../policy';
import type { AccountState, Hold } from './account';

export type OpenAccount = {
  type: 'OpenAccount';
  data: { accountId: string; email: string };
  metadata: { now: string };
};

export type PlaceHold = {
  type: 'PlaceHold';
  data: { jobId: string; gpuType: GpuType; gpuCount: number; maxRuntimeSeconds: number };
  metadata: { now: string };
};

export type SettleHold = {
  type: 'SettleHold';
  /** `runSeconds`: billable wall-clock seconds the job ran (already rounded up to whole seconds). */
  data: { jobId: string; runSeconds: number };
  metadata: { now: string };
};

export type LedgerCommand = OpenAccount | PlaceHold | SettleHold;

/** What a hold buys: how long the job may run and why it would be stopped. */
export interface HoldPlan {
  /** Wall-clock seconds held, grace included. */
  seconds: number;
  /** Seconds between SIGTERM and SIGKILL, inside `seconds`. */
  graceSeconds: number;
  /** Why the job is stopped at `seconds - graceSeconds`. */
  stopReason: 'insufficient_balance' | 'max_runtime_exceeded';
  trialGpuSeconds: number;
}

/**
 * Plans a hold: the job's runtime plus the stop grace, capped at what the account can pay.
 * Only A100 jobs may use the trial (the only type sold today).
 * @throws InsufficientBalanceError when the account cannot pay for `policy.minimumHeldSeconds`.
 */
export function planHold(state: AccountState, command: PlaceHold['data'], policy: Policy): HoldPlan {
  if (state.status !== 'open') throw new NotFoundError('No such account');
  const wanted = command.maxRuntimeSeconds + policy.stopGraceSeconds;
  const trialUsable = command.gpuType === state.trial.gpuType ? state.trial.remaining : 0;
  const affordable = Math.floor(trialUsable / command.gpuCount);
  const seconds = Math.min(wanted, affordable);
  if (seconds < policy.minimumHeldSeconds) {
    throw new InsufficientBalanceError(
      `The account can pay for ${affordable} s of a ${command.gpuCount}-GPU job; at least ${policy.minimumHeldSeconds} s are needed.`,
    );
  }
  // Short holds keep at least half their time for work before SIGTERM.
  const graceSeconds = Math.min(policy.stopGraceSeconds, Math.floor(seconds / 2));
  return {
    seconds,
    graceSeconds,
    stopReason: seconds < wanted ? 'insufficient_balance' : 'max_runtime_exceeded',
    trialGpuSeconds: seconds * command.gpuCount,
  };
}

/** What settling a hold charges: the job's GPU-seconds, never more than was held. */
export function settlement(hold: Hold, runSeconds: number) {
  const billedSeconds = Math.min(Math.max(0, runSeconds), hold.seconds);
  const charged = billedSeconds * hold.gpuCount;
  return {
    runSeconds: billedSeconds,
    trialGpuSecondsCharged: Math.min(charged, hold.trialGpuSeconds),
    trialGpuSecondsReleased: hold.trialGpuSeconds - Math.min(charged, hold.trialGpuSeconds),
  };
}

/**
 * The ledger decider. A command that changes nothing returns `[]` (settling a settled hold);
 * a broken rule throws a domain error.
 */
export function decideLedger(command: LedgerCommand, state: AccountState, policy: Policy): AccountEvent[] {
  const { now } = command.metadata;
  switch (command.type) {
    case 'OpenAccount': {
      if (state.status !== 'none') throw new ConflictError('Account already exists');
      return [
        {
          type: 'AccountOpened',
          data: {
            accountId: command.data.accountId,
            email: command.data.email,
            openedAt: now,
            trial: { gpuType: 'a100', gpuSeconds: policy.trialGpuSeconds },
          },
        },
      ];
    }
    case 'PlaceHold': {
      if (state.status === 'open' && state.holds[command.data.jobId]) return [];
      const plan = planHold(state, command.data, policy);
      return [
        {
          type: 'HoldPlaced',
          data: {
            jobId: command.data.jobId,
            gpuType: command.data.gpuType,
            gpuCount: command.data.gpuCount,
            seconds: plan.seconds,
            trialGpuSeconds: plan.trialGpuSeconds,
            placedAt: now,
          },
        },
      ];
    }
    case 'SettleHold': {
      if (state.status !== 'open') throw new NotFoundError('No such account');
      const hold = state.holds[command.data.jobId];
      if (!hold) return [];
      return [
        { type: 'HoldSettled', data: { jobId: hold.jobId, ...settlement(hold, command.data.runSeconds), settledAt: now } },
      ];
    }
    default: {
      const unknown: never = command;
      return unknown;
    }
  }
}

import type { AccountEvent } from '../../events/account-events';
import type { GpuType } from '../../events/values';

/** An open hold: funds reserved for one job until it is settled. */
export interface Hold {
  jobId: string;
  gpuType: GpuType;
  gpuCount: number;
  seconds: number;
  trialGpuSeconds: number;
}

export type AccountState =
  | { status: 'none' }
  | {
      status: 'open';
      accountId: string;
      email: string;
      openedAt: string;
      trial: {
        gpuType: GpuType;
        granted: number;
        /** Free to spend now: granted minus held minus charged. */
        remaining: number;
        charged: number;
      };
      holds: Record<string, Hold>;
    };

export const initialAccountState = (): AccountState => ({ status: 'none' });

/** Applies one ledger event. Events are facts: evolve never rejects, it only folds. */
export function evolveAccount(state: AccountState, event: AccountEvent): AccountState {
  switch (event.type) {
    case 'AccountOpened': {
      const { accountId, email, openedAt, trial } = event.data;
      return {
        status: 'open',
        accountId,
        email,
        openedAt,
        trial: { gpuType: trial.gpuType, granted: trial.gpuSeconds, remaining: trial.gpuSeconds, charged: 0 },
        holds: {},
      };
    }
    case 'HoldPlaced': {
      if (state.status !== 'open') return state;
      const { jobId, gpuType, gpuCount, seconds, trialGpuSeconds } = event.data;
      return {
        ...state,
        trial: { ...state.trial, remaining: state.trial.remaining - trialGpuSeconds },
        holds: { ...state.holds, [jobId]: { jobId, gpuType, gpuCount, seconds, trialGpuSeconds } },
      };
    }
    case 'HoldSettled': {
      if (state.status !== 'open') return state;
      const { jobId, trialGpuSecondsCharged, trialGpuSecondsReleased } = event.data;
      const { [jobId]: _settled, ...holds } = state.holds;
      return {
        ...state,
        trial: {
          ...state.trial,
          remaining: state.trial.remaining + trialGpuSecondsReleased,
          charged: state.trial.charged + trialGpuSecondsCharged,
        },
        holds,
      };
    }
    default: {
      const unknown: never = event;
      return unknown;
    }
  }
}

/** GPU-seconds currently reserved by open holds. */
export const heldTrialGpuSeconds = (state: AccountState): number =>
  state.status === 'open' ? Object.values(state.holds).reduce((sum, hold) => sum + hold.trialGpuSeconds, 0) : 0;

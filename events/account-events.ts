import { z } from 'zod';
import { AccountId, GpuType, IsoTime, JobId } from './values';

/** Events of an account's stream (`account#<id>`): the ledger. */
export const AccountOpened = z.object({
  type: z.literal('AccountOpened'),
  data: z.object({
    accountId: AccountId,
    email: z.string(),
    openedAt: IsoTime,
    trial: z.object({ gpuType: GpuType, gpuSeconds: z.number().int().nonnegative() }),
  }),
});

/** Funds reserved for a job before it is submitted (a two-phase transfer's pending half). */
export const HoldPlaced = z.object({
  type: z.literal('HoldPlaced'),
  data: z.object({
    jobId: JobId,
    gpuType: GpuType,
    gpuCount: z.number().int().positive(),
    /** Wall-clock seconds held, stop grace included. */
    seconds: z.number().int().positive(),
    /** GPU-seconds taken from the trial for this hold. */
    trialGpuSeconds: z.number().int().nonnegative(),
    placedAt: IsoTime,
  }),
});

/** The hold's completion: what the job used is captured, the rest released. */
export const HoldSettled = z.object({
  type: z.literal('HoldSettled'),
  data: z.object({
    jobId: JobId,
    runSeconds: z.number().int().nonnegative(),
    trialGpuSecondsCharged: z.number().int().nonnegative(),
    trialGpuSecondsReleased: z.number().int().nonnegative(),
    settledAt: IsoTime,
  }),
});

export const AccountEvent = z.discriminatedUnion('type', [AccountOpened, HoldPlaced, HoldSettled]);
export type AccountEvent = z.infer<typeof AccountEvent>;

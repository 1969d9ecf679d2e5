import * as z from 'zod';
import { defineSchema } from './define-schema';
import { AccountId, GpuType, IsoTime, JobId, NonEmptyString, NonNegativeInt, NullableString, PositiveInt } from './values';

/** Events of an account's stream (`account#<id>`): the ledger. */
export const AccountOpened = /* @__PURE__ */ defineSchema(() => z.object({
  type: z.literal('AccountOpened'),
  data: z.object({
    accountId: AccountId,
    email: z.string(),
    openedAt: IsoTime,
    trial: z.object({ gpuType: GpuType, gpuSeconds: NonNegativeInt }),
  }),
}));

const Fen = NonNegativeInt;

/** One credit's share of a hold or of its settlement: GPU-seconds it pays for and the money (fen). */
export const CreditPortion = /* @__PURE__ */ defineSchema(() => z.object({
  creditId: NonEmptyString,
  gpuSeconds: NonNegativeInt,
  amount: Fen,
}));
export type CreditPortion = z.infer<typeof CreditPortion>;

/** Funds reserved for a job before it is submitted (a two-phase transfer's pending half). */
export const HoldPlaced = /* @__PURE__ */ defineSchema(() => z.object({
  type: z.literal('HoldPlaced'),
  data: z.object({
    jobId: JobId,
    gpuType: GpuType,
    gpuCount: PositiveInt,
    /** Wall-clock seconds held, stop grace included. */
    seconds: PositiveInt,
    /** GPU-seconds taken from the trial for this hold. */
    trialGpuSeconds: NonNegativeInt,
    /**
     * The price the job is charged at, fen per GPU-hour, fixed when the hold is placed (a later price
     * change never reprices it). Absent on holds from before credits existed (trial only: price 0).
     */
    ratePerGpuHour: Fen.optional(),
    /** What each credit reserves, in spending order (earliest expiry, then oldest). Absent = none. */
    credits: z.array(CreditPortion).optional(),
    placedAt: IsoTime,
  }),
}));

/** The hold's completion: what the job used is captured, the rest released. */
export const HoldSettled = /* @__PURE__ */ defineSchema(() => z.object({
  type: z.literal('HoldSettled'),
  data: z.object({
    jobId: JobId,
    /** The hold's GPU type and count, for usage lines (absent on settlements from before credits). */
    gpuType: GpuType.optional(),
    gpuCount: PositiveInt.optional(),
    runSeconds: NonNegativeInt,
    trialGpuSecondsCharged: NonNegativeInt,
    trialGpuSecondsReleased: NonNegativeInt,
    /** What each credit paid (the rest of its portion of the hold is released). Absent = none. */
    creditsCharged: z.array(CreditPortion).optional(),
    /** The billed running period: `periodEnd` is when the job stopped, `periodStart` = end − runSeconds. */
    periodStart: IsoTime.optional(),
    periodEnd: IsoTime.optional(),
    settledAt: IsoTime,
  }),
}));

/**
 * A credit was granted to the account: a voucher redeemed, or a monthly voucher's next month.
 * Public webhook `credit.added`. `period` (`YYYY-MM`, Asia/Shanghai) is the calendar month a
 * monthly voucher's grant is for: the ledger grants each voucher at most once per period.
 */
export const CreditGranted = /* @__PURE__ */ defineSchema(() => z.object({
  type: z.literal('CreditGranted'),
  data: z.object({
    creditId: NonEmptyString,
    source: z.literal('voucher'),
    voucherId: NonEmptyString,
    /** Fen (CNY minor units). */
    amount: PositiveInt,
    currency: z.literal('CNY'),
    /** The credit cannot be spent on new jobs after this (holds placed before it are honoured). */
    expiresAt: IsoTime.nullable(),
    recurrence: z.enum(['monthly']).nullable(),
    period: z.string().regex(/^\d{4}-\d{2}$/),
    grantedAt: IsoTime,
  }),
}));

/**
 * The unspent part (granted − charged) of the trial or of one credit fell below 10% of what was
 * granted: public webhook `balance.low`. Emitted once per crossing, by the settlement that crossed.
 * Units: GPU-seconds for the trial (`unit: 'gpu_seconds'`), fen for a credit (`unit: 'fen'`).
 */
export const BalanceLow = /* @__PURE__ */ defineSchema(() => z.object({
  type: z.literal('BalanceLow'),
  data: z.object({
    source: z.enum(['trial', 'credit']),
    /** The credit's id; null for the trial. */
    creditId: NullableString,
    unit: z.enum(['gpu_seconds', 'fen']),
    granted: NonNegativeInt,
    /** Unspent: granted − charged (what is still held for running jobs counts as unspent). */
    remaining: NonNegativeInt,
    at: IsoTime,
  }),
}));

/**
 * An operator credited the account: goodwill after an incident, or a refund. It is a credit like a
 * voucher's (spent in the same order, shown in `credits` with `source: "adjustment"`), with the
 * operator and reason recorded. Public webhook `credit.added`.
 */
export const AdjustmentGranted = /* @__PURE__ */ defineSchema(() => z.object({
  type: z.literal('AdjustmentGranted'),
  data: z.object({
    creditId: NonEmptyString,
    /** Fen (CNY minor units). */
    amount: PositiveInt,
    currency: z.literal('CNY'),
    expiresAt: IsoTime.nullable(),
    operator: z.string().min(1).max(64),
    reason: z.string().min(1).max(500),
    grantedAt: IsoTime,
  }),
}));

/**
 * An operator suspended the account: from this event on no hold is placed (no job starts), its keys
 * are refused with 403 `account_suspended`, and its jobs that were queued or running are cancelled
 * and settled as a cancel is. What it was granted stays.
 */
export const AccountSuspended = /* @__PURE__ */ defineSchema(() => z.object({
  type: z.literal('AccountSuspended'),
  data: z.object({ operator: z.string().min(1).max(64), reason: z.string().min(1).max(500), suspendedAt: IsoTime }),
}));

/** An operator lifted a suspension: the keys work again. Cancelled jobs stay cancelled. */
export const AccountReactivated = /* @__PURE__ */ defineSchema(() => z.object({
  type: z.literal('AccountReactivated'),
  data: z.object({ operator: z.string().min(1).max(64), reason: z.string().min(1).max(500), reactivatedAt: IsoTime }),
}));

export const AccountEvent = /* @__PURE__ */ defineSchema(() => z.discriminatedUnion('type', [
  AccountOpened,
  HoldPlaced,
  HoldSettled,
  CreditGranted,
  BalanceLow,
  AdjustmentGranted,
  AccountSuspended,
  AccountReactivated,
]));
export type AccountEvent = z.infer<typeof AccountEvent>;
export type HoldPlaced = z.infer<typeof HoldPlaced>;
export type HoldSettled = z.infer<typeof HoldSettled>;
export type CreditGranted = z.infer<typeof CreditGranted>;
export type AdjustmentGranted = z.infer<typeof AdjustmentGranted>;

/** `voucher#<sha256 of the normalised code>`: a voucher. The code itself is never stored. */
export const VoucherCreated = /* @__PURE__ */ defineSchema(() => z.object({
  type: z.literal('VoucherCreated'),
  data: z.object({
    voucherId: NonEmptyString,
    amount: PositiveInt,
    currency: z.literal('CNY'),
    maxRedemptions: PositiveInt,
    expiresAt: IsoTime.nullable(),
    recurrence: z.enum(['monthly']).nullable(),
    createdAt: IsoTime,
  }),
}));

export const VoucherRedeemed = /* @__PURE__ */ defineSchema(() => z.object({
  type: z.literal('VoucherRedeemed'),
  data: z.object({ accountId: AccountId, creditId: NonEmptyString, redeemedAt: IsoTime }),
}));

/**
 * An operator disabled the voucher: no redemption from this event on, and no monthly credit for a
 * month that begins after it. Credits already granted, this month's included, stay.
 */
export const VoucherDisabled = /* @__PURE__ */ defineSchema(() => z.object({
  type: z.literal('VoucherDisabled'),
  data: z.object({ operator: z.string().min(1).max(64), reason: z.string().min(1).max(500), disabledAt: IsoTime }),
}));

export const VoucherEvent = /* @__PURE__ */ defineSchema(() => z.discriminatedUnion('type', [VoucherCreated, VoucherRedeemed, VoucherDisabled]));
export type VoucherEvent = z.infer<typeof VoucherEvent>;

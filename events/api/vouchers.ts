import * as z from 'zod';
import { defineSchema } from '../define-schema';
import { Int, NonEmptyString, NullableString } from '../values';
import { MoneyBody, NullableTimestamp, Timestamp } from './common';

/** At most ¥100,000,000 per voucher: a typo guard, far above any real voucher. */
const MAX_VOUCHER_FEN = 10_000_000_000;

/** `POST /v1/admin/vouchers` body. */
export const CreateVoucherRequest = /* @__PURE__ */ defineSchema(() => z.strictObject({
  amount: z.strictObject({ amount: Int.min(1).max(MAX_VOUCHER_FEN), currency: z.literal('CNY') }),
  max_redemptions: Int.min(1).max(1_000_000).default(1),
  expires_at: z.iso.datetime({ offset: true }).optional(),
  recurrence: z.enum(['monthly']).optional(),
}));
export type CreateVoucherRequest = z.input<typeof CreateVoucherRequest>;

/** The voucher as created. `code` is shown only here: only its hash is stored. */
export const VoucherBody = /* @__PURE__ */ defineSchema(() => z.object({
  id: z.string(),
  object: z.literal('voucher'),
  code: z.string(),
  amount: MoneyBody,
  max_redemptions: Int,
  expires_at: NullableTimestamp,
  recurrence: z.enum(['monthly']).nullable(),
  created_at: Timestamp,
}).meta({ id: 'Voucher' }));

/** `POST /v1/vouchers/redeem` body. */
export const RedeemVoucherRequest = /* @__PURE__ */ defineSchema(() => z.strictObject({ code: NonEmptyString.max(128) }));

/** A credit on the account (also an entry of `GET /v1/account`'s `credits`). */
export const CreditBody = /* @__PURE__ */ defineSchema(() => z.object({
  id: z.string(),
  object: z.literal('credit'),
  /** `voucher`: a redeemed voucher; `adjustment`: an operator's goodwill or refund credit. */
  source: z.enum(['voucher', 'adjustment']),
  /** The voucher it came from; null for an adjustment. */
  voucher_id: NullableString,
  granted: MoneyBody,
  remaining: MoneyBody,
  held: MoneyBody,
  used: MoneyBody,
  expires_at: NullableTimestamp,
  recurrence: z.enum(['monthly']).nullable(),
  /** The calendar month (Asia/Shanghai, `YYYY-MM`) the grant is for. */
  period: z.string(),
  created_at: Timestamp,
}).meta({ id: 'Credit', description: 'Compute credit on the account, from a voucher.' }));

export const RedeemVoucherResponse = /* @__PURE__ */ defineSchema(() => z.object({ credit: CreditBody }).meta({ id: 'RedeemedVoucher' }));

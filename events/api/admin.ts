import * as z from 'zod';
import { defineSchema } from '../define-schema';
import { Int, NullableString } from '../values';
import { AccountBody } from './accounts';
import { ListQuery, listOf, MoneyBody } from './common';
import { JobBody, ListJobsQuery } from './jobs';

/**
 * The operators' routes (API.md, "Operators"), all under the admin key. Each change names its
 * operator in the `X-Operator` header and carries a `reason`; both are recorded on its event.
 */

/** Why an operator makes a change: shown in the account's ledger and on the voucher. */
const Reason = z.string().trim().min(1).max(500);

/** At most ¥1,000,000 per adjustment: a typo guard, far above any goodwill or refund. */
const MAX_ADJUSTMENT_FEN = 100_000_000;

/** `POST /v1/admin/accounts/{id}/suspend`, `/reactivate`, `POST /v1/admin/vouchers/{id}/disable` body. */
export const ReasonRequest = /* @__PURE__ */ defineSchema(() => z.strictObject({ reason: Reason }));

/** `POST /v1/admin/accounts/{id}/credits` body: a goodwill or refund credit. */
export const CreateAdjustmentRequest = /* @__PURE__ */ defineSchema(() => z.strictObject({
  amount: z.strictObject({ amount: Int.min(1).max(MAX_ADJUSTMENT_FEN), currency: z.literal('CNY') }),
  expires_at: z.iso.datetime({ offset: true }).optional(),
  reason: Reason,
}));

/** Who did something to the account or voucher, when and why. */
const OperatorAction = z.object({ operator: z.string(), reason: z.string(), at: z.string() });

/** The account as its owner sees it, plus what an operator needs. */
export const AdminAccountBody = /* @__PURE__ */ defineSchema(() => AccountBody.extend({
  status: z.enum(['open', 'suspended']),
  /** The suspension in force (null while open). */
  suspension: OperatorAction.nullable(),
  /** The account's jobs by status. */
  jobs: z.object({ total: Int, queued: Int, starting: Int, running: Int, succeeded: Int, failed: Int, cancelled: Int }),
}));
export type AdminAccountBody = z.infer<typeof AdminAccountBody>;

/** `GET /v1/admin/accounts?email=`: a case-insensitive prefix of the email (all accounts without one). */
export const AdminAccountsQuery = /* @__PURE__ */ defineSchema(() => ListQuery.extend({ email: z.string().max(254).optional() }));
export const AdminAccountList = /* @__PURE__ */ defineSchema(() => listOf(AdminAccountBody, 'AdminAccountList'));

/** A signed quantity of the ledger: trial GPU-seconds and money (negative when it leaves the balance). */
const LedgerAmount = z.object({ trial_gpu_seconds: Int, amount: MoneyBody });

/** One line of the account's statement, oldest first. */
export const LedgerEntry = /* @__PURE__ */ defineSchema(() => z.object({
  /** `<event version>` or `<event version>.<line>` when one event makes several lines (a charge and its release). */
  id: z.string(),
  object: z.literal('ledger_entry'),
  type: z.enum(['trial_granted', 'credit', 'adjustment', 'hold', 'charge', 'release', 'suspended', 'reactivated']),
  created_at: z.string(),
  /** What happened, for a person: "Charge for job_…: 72 trial GPU-s, ¥1.20". */
  description: z.string(),
  job_id: NullableString,
  credit_id: NullableString,
  /** What the line did to the balance: a grant adds, a charge takes; a hold and a release only move money in and out of `held_after`. */
  amount: LedgerAmount,
  /** The balance after the line: what is not spent yet (free or held), trial GPU-seconds and credits' money. */
  balance_after: LedgerAmount,
  /** What open holds reserved after the line. */
  held_after: LedgerAmount,
  /** Who did it: `operator:<name>`, the account's own id, `scheduler`, `compute`, … */
  actor: z.string(),
  reason: NullableString,
}));
export type LedgerEntry = z.infer<typeof LedgerEntry>;
export const LedgerList = /* @__PURE__ */ defineSchema(() => listOf(LedgerEntry, 'LedgerList'));
export const LedgerQuery = ListQuery;

/** A voucher as an operator sees it (never its code: only a hash is stored). */
export const AdminVoucherBody = /* @__PURE__ */ defineSchema(() => z.object({
  id: z.string(),
  object: z.literal('voucher'),
  amount: MoneyBody,
  max_redemptions: Int,
  redemptions: Int,
  status: z.enum(['active', 'disabled', 'expired']),
  expires_at: NullableString,
  recurrence: z.enum(['monthly']).nullable(),
  created_at: z.string(),
  /** Who disabled it, when and why (null unless disabled). */
  disabled: OperatorAction.nullable(),
}));
export const AdminVoucherList = /* @__PURE__ */ defineSchema(() => listOf(AdminVoucherBody, 'AdminVoucherList'));
export const AdminVouchersQuery = ListQuery;

/** `GET /v1/admin/jobs?status=&account_id=`. */
export const AdminJobsQuery = /* @__PURE__ */ defineSchema(() => ListJobsQuery.extend({ account_id: z.string().regex(/^acct_[0-9a-z]{26}$/).optional() }));
/** A job with the account it belongs to. */
export const AdminJobBody = /* @__PURE__ */ defineSchema(() => JobBody.extend({ account_id: z.string() }));
export const AdminJobList = /* @__PURE__ */ defineSchema(() => listOf(AdminJobBody, 'AdminJobList'));

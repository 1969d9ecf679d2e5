import { AccountEvent, VoucherEvent } from '../../events/account-events';
import { accountDecider } from '../../domain/ledger/decide';
import { voucherDecider } from '../../domain/ledger/voucher';

export const accounts = { ...accountDecider, schema: AccountEvent };

/** `voucher#<sha256 of the normalised code>`: the code itself is never stored. */
export const vouchers = { ...voucherDecider, schema: VoucherEvent };

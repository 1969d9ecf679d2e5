import { AccountEvent, VoucherEvent } from '../../events/account-events';
import { evolveAccount, initialAccountState, type AccountState } from '../../domain/ledger/account';
import { evolveVoucher, initialVoucherState, type VoucherState } from '../../domain/ledger/voucher';
import type { Aggregate } from './aggregate';

export const accounts: Aggregate<AccountState, AccountEvent> = {
  streamId: (id) => `account#${id}`,
  schema: AccountEvent,
  initial: initialAccountState,
  evolve: evolveAccount,
};

/** `voucher#<sha256 of the normalised code>`: the code itself is never stored. */
export const vouchers: Aggregate<VoucherState, VoucherEvent> = {
  streamId: (codeHash) => `voucher#${codeHash}`,
  schema: VoucherEvent,
  initial: initialVoucherState,
  evolve: evolveVoucher,
};

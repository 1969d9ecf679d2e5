import { decideLedger, creditIdFor } from '../../domain/ledger/decide';
import { periodOf } from '../../domain/ledger/periods';
import { decideVoucher } from '../../domain/ledger/voucher';
import { RedeemVoucherRequest, RedeemVoucherResponse } from '../../events/api/vouchers';
import { fold, load } from '../aggregates/aggregate';
import { accounts, vouchers } from '../aggregates/ledger';
import { retryOnConflict } from '../adapters/with-retry';
import type { Deps } from '../deps';
import { notFound } from '../http/problem';
import { json, parse, route, type RouteOptions } from '../http/route';
import { lambda } from '../lambda';
import { loadAccount } from '../views/account-snapshots';
import { voucherCodeHash } from './create-voucher';
import { presentCredit } from './present-ledger';

export const schemas = { body: RedeemVoucherRequest, response: RedeemVoucherResponse };

export const options: RouteOptions = { auth: 'key', idempotent: true };

/**
 * POST /v1/vouchers/redeem: the voucher records the redemption and the account gets the credit, in
 * one atomic write conditional on both streams, so concurrent redemptions of a single-use code can
 * never both succeed. 404 for an unknown or expired code, 409 when fully redeemed or redeemed before.
 */
export const make = (deps: Deps) =>
  route(deps, options, async ({ body, accountId }) => {
    const codeHash = voucherCodeHash(parse(RedeemVoucherRequest, body).code);
    const credit = await retryOnConflict(
      async () => {
        const [voucher, account] = await Promise.all([load(deps.store, vouchers, codeHash), loadAccount(deps, accountId)]);
        if (account.state.status !== 'open') throw notFound('No such account');
        const now = deps.now().toISOString();
        const voucherEvents = decideVoucher(
          { type: 'RedeemVoucher', data: { accountId, creditId: voucher.state.status === 'active' ? creditIdFor(voucher.state.voucherId, periodOf(now)) : '' }, metadata: { now } },
          voucher.state,
        );
        if (voucher.state.status !== 'active') throw notFound('No such voucher code');
        const { voucherId, amount, expiresAt, recurrence } = voucher.state;
        const accountEvents = decideLedger(
          { type: 'GrantVoucherCredit', data: { voucher: { voucherId, amount, expiresAt, recurrence } }, metadata: { now } },
          account.state,
          deps.policy,
        );
        await deps.store.append(
          [
            { streamId: vouchers.streamId(codeHash), expectedVersion: voucher.version, events: voucherEvents },
            { streamId: accounts.streamId(accountId), expectedVersion: account.version, events: accountEvents },
          ],
          { at: now, metadata: { actor: accountId } },
        );
        const after = fold(accounts, account.state, accountEvents);
        const granted = accountEvents[0]!.data as { creditId: string };
        if (after.status !== 'open') throw notFound('No such account');
        return presentCredit(after.credits[granted.creditId]!, recurrence);
      },
      // Many customers may redeem one multi-use code at once; each conflict means one of them won.
      { attempts: 16 },
    );
    return json(200, { credit });
  });

export const handler = lambda(make);

import { creditIdFor } from '../../domain/ledger/decide';
import { periodOf } from '../../domain/ledger/periods';
import { RedeemVoucherRequest, RedeemVoucherResponse } from '../../events/api/vouchers';
import { fold } from '../aggregates/aggregate';
import { accounts, vouchers } from '../aggregates/ledger';
import { handleCommands, writeTo } from '../command-handler';
import type { Deps } from '../deps';
import { notFound } from '../http/problem';
import { json, parse, route, type RouteOptions } from '../http/route';
import { lambda } from '../lambda';
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
    const credit = await handleCommands(
      deps,
      async ({ now, load, loadAccount }) => {
        const [voucher, account] = await Promise.all([load(vouchers, codeHash), loadAccount(accountId)]);
        if (account.state.status !== 'open') throw notFound('No such account');
        const creditId = voucher.state.status === 'active' ? creditIdFor(voucher.state.voucherId, periodOf(now)) : '';
        const voucherEvents = vouchers.decide({ type: 'RedeemVoucher', data: { accountId, creditId }, metadata: { now } }, voucher.state);
        if (voucher.state.status !== 'active') throw notFound('No such voucher code');
        const { voucherId, amount, expiresAt, recurrence } = voucher.state;
        const accountEvents = accounts.decide(
          { type: 'GrantVoucherCredit', data: { voucher: { voucherId, amount, expiresAt, recurrence } }, metadata: { now, policy: deps.policy } },
          account.state,
        );
        const after = fold(accounts, account.state, accountEvents);
        if (after.status !== 'open') throw notFound('No such account');
        return {
          writes: [writeTo(voucher, voucherEvents), writeTo(account, accountEvents)],
          result: presentCredit(after.credits[creditId]!, recurrence),
        };
      },
      // Many customers may redeem one multi-use code at once; each conflict means one of them won.
      { metadata: { actor: accountId }, attempts: 16 },
    );
    return json(200, { credit });
  });

export const handler = lambda(make);

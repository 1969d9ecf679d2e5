import { createHash, randomBytes } from 'node:crypto';
import { CreateVoucherRequest, VoucherBody } from '../../events/api/vouchers';
import { vouchers } from '../aggregates/ledger';
import { handleCommands, writeTo } from '../command-handler';
import type { Deps } from '../deps';
import { invalidRequest } from '../http/problem';
import { json, parse, route, type RouteOptions } from '../http/route';
import { lambda } from '../lambda';

export const schemas = { body: CreateVoucherRequest, response: VoucherBody, status: 201 };

export const options: RouteOptions = { auth: 'admin', idempotent: true };

/** Crockford's base32: no I, L, O or U, so a code read aloud or retyped survives. */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** A new code: `SX-XXXX-XXXX-XXXX-XXXX`, 80 random bits. */
export function newVoucherCode(): string {
  const bytes = randomBytes(10);
  let bits = 0n;
  for (const byte of bytes) bits = (bits << 8n) | BigInt(byte);
  let chars = '';
  for (let i = 0; i < 16; i++) chars += ALPHABET[Number((bits >> BigInt(75 - 5 * i)) & 31n)];
  return `SX-${chars.match(/.{4}/g)!.join('-')}`;
}

/**
 * The stream key of a code: SHA-256 of the code upper-cased without spaces or dashes, so
 * `sx-abcd-…` and `SXABCD…` are the same voucher. Codes carry 80 random bits, so a fast hash is enough.
 */
export const voucherCodeHash = (code: string) =>
  createHash('sha256').update(code.toUpperCase().replace(/[\s-]/g, '')).digest('hex');

/** POST /v1/admin/vouchers (admin key): creates a voucher and shows its code once. */
export const make = (deps: Deps) =>
  route(deps, options, async ({ body }) => {
    const request = parse(CreateVoucherRequest, body);
    const now = deps.now();
    const expiresAt = request.expires_at ? new Date(request.expires_at).toISOString() : null;
    if (expiresAt !== null && Date.parse(expiresAt) <= now.getTime()) {
      throw invalidRequest('expires_at must be in the future', [{ path: 'expires_at', message: 'must be in the future' }]);
    }
    const voucherId = deps.ids.voucher();
    // A fresh code per attempt: a (practically impossible) collision with an existing code retries.
    const { code, created } = await handleCommands(
      deps,
      async ({ now }) => {
        const code = newVoucherCode();
        const command = {
          type: 'CreateVoucher' as const,
          data: { voucherId, amount: request.amount.amount, maxRedemptions: request.max_redemptions, expiresAt, recurrence: request.recurrence ?? null },
          metadata: { now },
        };
        const events = vouchers.decide(command, vouchers.initialState());
        return {
          writes: [writeTo({ streamId: vouchers.streamId(voucherCodeHash(code)), version: 0 }, events)],
          result: { code, created: events[0]!.data as { createdAt: string } },
        };
      },
      { metadata: { actor: 'admin' } },
    );
    return json(201, {
      id: voucherId,
      object: 'voucher',
      code,
      amount: { amount: request.amount.amount, currency: 'CNY' },
      max_redemptions: request.max_redemptions,
      expires_at: expiresAt,
      recurrence: request.recurrence ?? null,
      created_at: created.createdAt,
    });
  });

export const handler = lambda(make);

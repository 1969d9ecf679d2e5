import { describe, expect, it } from 'vitest';
import { authenticateAdmin, newAdminKey } from '../../../functions/http/auth';
import { HttpProblem } from '../../../functions/http/problem';
import type { Deps } from '../../../functions/deps';

const key = newAdminKey();
const deps = { adminKey: async () => key } as Deps;

describe('admin authentication', () => {
  it('accepts the admin key', async () => {
    await expect(authenticateAdmin(deps, `Bearer ${key}`)).resolves.toBeUndefined();
  });
  it.each([undefined, '', 'Bearer', `Bearer ${key}x`, `Basic ${key}`, `Bearer ${key.slice(0, -1)}`, 'Bearer sk_01aaaaaaaaaaaaaaaaaaaaaaaa_' + 'A'.repeat(43)])(
    'refuses %j with 401',
    async (header) => {
      await expect(authenticateAdmin(deps, header)).rejects.toSatisfy((e: unknown) => e instanceof HttpProblem && e.status === 401 && e.type === 'unauthorized');
    },
  );
  it('makes keys with 256 bits of randomness', () => {
    expect(newAdminKey()).toMatch(/^sxadmin_[A-Za-z0-9_-]{43}$/);
    expect(newAdminKey()).not.toBe(newAdminKey());
  });
});

import type { Deps } from './deps';
import { lambda } from './lambda';
import { streamConsumer } from './stream';
import { adminProjections } from './views/admin-views';

/**
 * The live side of the operators' views: accounts by email, every account's jobs, the vouchers. One
 * consumer for all three (they read different kinds of stream), so operators cost one function.
 */
export const make = (deps: Deps) =>
  streamConsumer('', async (stored) => {
    for (const projection of adminProjections) {
      if (stored.streamId.startsWith(projection.streamPrefix)) await projection.apply(deps, stored);
    }
  });

export const handler = lambda(make);

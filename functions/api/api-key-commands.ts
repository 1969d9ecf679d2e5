import { decideKey, type KeyCommand } from '../../domain/identity/identity';
import { load } from '../aggregates/aggregate';
import { apiKeys, keyrings } from '../aggregates/identity';
import { retryOnConflict } from '../adapters/with-retry';
import type { Deps } from '../deps';

/**
 * Runs a key command: loads the key's stream and the account's keyring, decides, and appends to both
 * in one transaction (retried on a concurrent change, so two revocations can never leave an account
 * without a key).
 * @throws domain errors from `decideKey`.
 */
export async function runKeyCommand(deps: Deps, accountId: string, keyId: string, makeCommand: (now: string) => KeyCommand): Promise<void> {
  await retryOnConflict(async () => {
    const [key, keyring] = await Promise.all([load(deps.store, apiKeys, keyId), load(deps.store, keyrings, accountId)]);
    const now = deps.now().toISOString();
    const decided = decideKey(makeCommand(now), key.state, keyring.state);
    if (decided.key.length === 0 && decided.keyring.length === 0) return;
    await deps.store.append(
      [
        { streamId: apiKeys.streamId(keyId), expectedVersion: key.version, events: decided.key },
        { streamId: keyrings.streamId(accountId), expectedVersion: keyring.version, events: decided.keyring },
      ],
      { at: now, metadata: { actor: accountId } },
    );
  });
}

import { decideKey, type KeyCommand } from '../../domain/identity/identity';
import { apiKeys, keyrings } from '../aggregates/identity';
import { handleCommands, writeTo } from '../command-handler';
import type { Deps } from '../deps';

/**
 * Runs a key command through the command handler: the key's stream and the account's keyring are
 * decided on together and appended in one transaction (so two revocations can never leave an account
 * without a key).
 * @throws domain errors from `decideKey`.
 */
export async function runKeyCommand(deps: Deps, accountId: string, keyId: string, makeCommand: (now: string) => KeyCommand): Promise<void> {
  await handleCommands(
    deps,
    async ({ now, load }) => {
      const [key, keyring] = await Promise.all([load(apiKeys, keyId), load(keyrings, accountId)]);
      const decided = decideKey(makeCommand(now), { key: key.state, keyring: keyring.state });
      return { writes: [writeTo(key, decided.key), writeTo(keyring, decided.keyring)], result: undefined };
    },
    { metadata: { actor: accountId } },
  );
}

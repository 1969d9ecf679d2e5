import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

/**
 * A function that reads one secret's string value from Secrets Manager (no caching: see
 * `cachedSecret` in `functions/aws-deps.ts`). Imported on first use, so only functions that read a
 * secret load the Secrets Manager client.
 * @throws (from the returned function) the Secrets Manager error, or Error for a secret with no string value.
 */
export function secretReader(secretId: string, client: Pick<SecretsManagerClient, 'send'> = new SecretsManagerClient({})): () => Promise<string> {
  return async () => {
    const out = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
    if (!out.SecretString) throw new Error(`Secret ${secretId} has no string value`);
    return out.SecretString;
  };
}

import { z } from 'zod';
import { ListQuery, listOf } from './common';

/** `POST /v1/api-keys` body (optional: a label to tell keys apart). */
export const CreateApiKeyRequest = z.strictObject({ name: z.string().min(1).max(64).optional() });
export type CreateApiKeyRequest = z.infer<typeof CreateApiKeyRequest>;

/** An API key as listed: never its secret. */
export const ApiKeyBody = z.object({
  id: z.string(),
  object: z.literal('api_key'),
  name: z.string().nullable(),
  created_at: z.string(),
});

/** `POST /v1/api-keys` answer: the key itself, shown this once (only its hash is kept). */
export const CreatedApiKeyBody = ApiKeyBody.extend({ api_key: z.string() });

export const ListApiKeysQuery = ListQuery;
export const ApiKeyList = listOf(ApiKeyBody);

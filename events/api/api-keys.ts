import * as z from 'zod';
import { defineSchema } from '../define-schema';
import { NonEmptyString, NullableString } from '../values';
import { ListQuery, Timestamp, listOf } from './common';

/** `POST /v1/api-keys` body (optional: a label to tell keys apart). */
export const CreateApiKeyRequest = /* @__PURE__ */ defineSchema(() => z.strictObject({ name: NonEmptyString.max(64).optional() }));
export type CreateApiKeyRequest = z.infer<typeof CreateApiKeyRequest>;

/** An API key as listed: never its secret. */
export const ApiKeyBody = /* @__PURE__ */ defineSchema(() => z.object({
  id: z.string(),
  object: z.literal('api_key'),
  name: NullableString,
  created_at: Timestamp,
}).meta({ id: 'ApiKey', description: 'An API key as listed: never its secret.' }));

/** `POST /v1/api-keys` answer: the key itself, shown this once (only its hash is kept). */
export const CreatedApiKeyBody = /* @__PURE__ */ defineSchema(() => ApiKeyBody.extend({ api_key: z.string().describe('The key itself, `sk_…`: shown this once.') }).meta({ id: 'CreatedApiKey' }));

export const ListApiKeysQuery = ListQuery;
export const ApiKeyList = /* @__PURE__ */ defineSchema(() => listOf(ApiKeyBody, 'ApiKeyList'));

import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import type { JobBody } from '../events/api/jobs';
import * as z from 'zod';

/**
 * A webhook body as the service sends it (API.md): `type`, `timestamp`, and `data` (for `job.*`
 * events, `data.job` is the job object). Only the envelope is checked: once the signature holds,
 * a field added to an event later must not make a genuine delivery look forged.
 */
export const WebhookEvent = z.object({ type: z.string(), timestamp: z.string(), data: z.record(z.string(), z.unknown()) }).loose();
export type WebhookEvent = Omit<z.infer<typeof WebhookEvent>, 'data'> & { data: { job?: JobBody } & Record<string, unknown> };

export { WebhookVerificationError };

/**
 * Verifies a delivery's Standard Webhooks signature (`webhook-id`, `webhook-timestamp`,
 * `webhook-signature`, HMAC-SHA256 with the endpoint's `whsec_…` secret) and returns its parsed body.
 * Pass the body exactly as received, as a string: a re-serialized body no longer matches.
 * Deliveries are at least once: dedupe on the returned `id` (the `webhook-id` header).
 *
 * @throws WebhookVerificationError for a missing or wrong signature, or a timestamp more than five
 *   minutes from now (a replay); a body that is signed but not a webhook event too.
 */
export function verifyWebhook(
  secret: string,
  body: string,
  headers: Headers | Record<string, string | string[] | undefined>,
): { id: string; event: WebhookEvent } {
  const flat = flattenHeaders(headers);
  const payload = new Webhook(secret).verify(body, flat);
  const parsed = WebhookEvent.safeParse(payload);
  if (!parsed.success) throw new WebhookVerificationError('Signed, but not a webhook event of this API');
  return { id: flat['webhook-id'] ?? '', event: parsed.data as WebhookEvent };
}

/** Node's IncomingHttpHeaders, a fetch Headers or a plain object, as lower-cased single values. */
function flattenHeaders(headers: Headers | Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  const entries: Iterable<[string, string | string[] | undefined]> =
    typeof (headers as Headers).forEach === 'function' && typeof (headers as Headers).get === 'function'
      ? (headers as Headers).entries()
      : Object.entries(headers);
  for (const [key, value] of entries) {
    if (value === undefined) continue;
    out[key.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

import { BalanceLowWebhookEvent, CreditAddedWebhookEvent, JobWebhookEvent } from '../../events/api/webhooks';
import { buildOpenApi } from '../http/openapi';
import { operationDocs, pathParameterExamples, problemDescriptions, tags } from './operation-docs';
import { routesWithModules } from './route-modules';

/** The document's version: bump it with any change to the contract. */
export const API_VERSION = '1.1.0';

/** The public event types and their webhook bodies (`webhooks` of the document). */
const webhooks = [
  { type: 'job.queued', summary: 'A job was queued', payload: JobWebhookEvent },
  { type: 'job.starting', summary: 'A job is starting', payload: JobWebhookEvent },
  { type: 'job.running', summary: 'A job is running', payload: JobWebhookEvent },
  { type: 'job.succeeded', summary: 'A job succeeded', payload: JobWebhookEvent },
  { type: 'job.failed', summary: 'A job failed', payload: JobWebhookEvent },
  { type: 'job.cancelled', summary: 'A job was cancelled', payload: JobWebhookEvent },
  { type: 'credit.added', summary: 'A credit was added', payload: CreditAddedWebhookEvent },
  { type: 'balance.low', summary: 'A balance is low', payload: BalanceLowWebhookEvent },
] as const;

/** The OpenAPI document as an object (see `openApiDocument`). */
export const openApiObject = () =>
  buildOpenApi(routesWithModules(), { version: API_VERSION, docs: operationDocs, tags, problemDescriptions, pathParameterExamples, webhooks });

/**
 * The OpenAPI document exactly as `GET /v1/openapi.json` serves it (JSON text), built from the route
 * table and every route module's zod schemas. It depends on code only, so the Lambda bundle of
 * `api/get-openapi` replaces this module with the text computed at bundle time (`infra/cdk/bundling.ts`)
 * and carries neither the route modules nor their schemas; the local stack and the tests build it live.
 * Both must give the same text (test/unit/infra/openapi-prerender.test.ts).
 * @throws Error if a route module's schemas cannot be described (a defect, caught by the tests).
 */
export function openApiDocument(): string {
  return JSON.stringify(openApiObject());
}

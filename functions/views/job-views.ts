import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import type { KnownJobState } from '../../domain/job/job';
import type { Deps } from '../deps';
import { queryPage } from '../adapters/dynamodb';
import type { InlineView } from '../adapters/event-store';

/** Jobs of an account, newest first: job ids are ULIDs, so the sort key orders them by creation. */
const pkOf = (accountId: string) => `account#${accountId}#jobs`;

/** A job's entry in its account's list, as of its stream's `version`. */
const jobViewItem = (state: KnownJobState, version: number) => ({
  pk: pkOf(state.job.accountId),
  sk: state.job.jobId,
  kind: 'job',
  status: state.status,
  version,
  state,
});

/**
 * A new job's list entry, written in the same append as its first events (`version` events), so the
 * account's next `GET /v1/jobs` shows it without waiting for the projection, which later finds the
 * entry at the same version and leaves it.
 */
export function inlineJobView(state: KnownJobState, version: number): InlineView {
  const item = jobViewItem(state, version);
  return { pk: item.pk, sk: item.sk, item };
}

/**
 * Writes a job's view unless a newer or equal stream version was already applied (by an earlier
 * delivery, or inline by the job's creation), so a redelivered or reordered stream record is a no-op.
 */
export async function putJobView(deps: Pick<Deps, 'doc' | 'tables'>, state: KnownJobState, version: number): Promise<void> {
  try {
    await deps.doc.send(
      new PutCommand({
        TableName: deps.tables.views,
        Item: jobViewItem(state, version),
        ConditionExpression: 'attribute_not_exists(pk) OR version < :version',
        ExpressionAttributeValues: { ':version': version },
      }),
    );
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
  }
}

export interface JobPage {
  jobs: KnownJobState[];
  /** The sort key to continue after, or null on the last page. */
  after: string | null;
}

/**
 * One page of an account's jobs, newest first, optionally of one status. Always scoped to the
 * account's partition, so a cursor from another account can only point into the caller's own jobs.
 */
export async function listJobViews(
  deps: Pick<Deps, 'doc' | 'tables'>,
  accountId: string,
  options: { limit: number; after?: string; status?: string },
): Promise<JobPage> {
  const { items, after } = await queryPage(deps.doc, { TableName: deps.tables.views, pk: pkOf(accountId), ...options });
  return { jobs: items.map((item) => item.state as KnownJobState), after };
}

import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import type { KnownJobState } from '../../domain/job/job';
import type { Deps } from '../deps';
import { queryPage } from '../adapters/dynamodb';

/** Jobs of an account, newest first: job ids are ULIDs, so the sort key orders them by creation. */
const pkOf = (accountId: string) => `account#${accountId}#jobs`;

/**
 * Writes a job's view unless a newer or equal stream version was already applied, so a redelivered
 * or reordered stream record is a no-op.
 */
export async function putJobView(deps: Pick<Deps, 'doc' | 'tables'>, state: KnownJobState, version: number): Promise<void> {
  try {
    await deps.doc.send(
      new PutCommand({
        TableName: deps.tables.views,
        Item: { pk: pkOf(state.job.accountId), sk: state.job.jobId, kind: 'job', status: state.status, version, state },
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

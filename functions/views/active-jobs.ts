import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { isFinal, type KnownJobState } from '../../domain/job/job';
import type { Deps } from '../deps';
import { queryAll } from '../adapters/dynamodb';

/**
 * The set of jobs that are not final, one item each in one partition of the views table: what the
 * reconciler, the hold enforcer and the capacity projection read instead of scanning. One partition
 * takes ~1000 writes a second, far above what Batch can start (50 submissions a second).
 */
const PK = 'active-jobs';

/** A job in the set, as its projection last saw it. */
export interface ActiveJob {
  state: KnownJobState;
  /** The job stream's version the item was written from. */
  version: number;
}

/**
 * Puts a non-final job into the set, or takes a final one out, unless a newer stream version was
 * already applied, so a redelivered or reordered record is a no-op.
 */
export async function putActiveJob(deps: Pick<Deps, 'doc' | 'tables'>, state: KnownJobState, version: number): Promise<void> {
  const guard = { ConditionExpression: 'attribute_not_exists(pk) OR version < :version', ExpressionAttributeValues: { ':version': version } };
  try {
    if (isFinal(state)) {
      await deps.doc.send(new DeleteCommand({ TableName: deps.tables.views, Key: { pk: PK, sk: state.job.jobId }, ...guard }));
    } else {
      await deps.doc.send(
        new PutCommand({ TableName: deps.tables.views, Item: { pk: PK, sk: state.job.jobId, kind: 'active-job', status: state.status, version, state }, ...guard }),
      );
    }
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
  }
}

/** Takes a job out of the set (the reconciler found it final: an out-of-order write had put it back). */
export async function removeActiveJob(deps: Pick<Deps, 'doc' | 'tables'>, jobId: string): Promise<void> {
  await deps.doc.send(new DeleteCommand({ TableName: deps.tables.views, Key: { pk: PK, sk: jobId } }));
}

/** Every job in the set, oldest first (job ids are ULIDs). Eventually consistent: it may lag the streams. */
export async function listActiveJobs(deps: Pick<Deps, 'doc' | 'tables'>): Promise<ActiveJob[]> {
  const items = await queryAll(deps.doc, { TableName: deps.tables.views, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': PK } });
  return items.map((item) => ({ state: item.state as KnownJobState, version: Number(item.version) }));
}

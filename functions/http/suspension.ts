import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { ACCOUNT_STATE_VERSION } from '../../domain/ledger/account';
import { QUOTA_STATE_VERSION } from '../../domain/quotas';
import type { Deps } from '../deps';

/**
 * Whether an operator has the account suspended, as of now: the latest snapshot's flag, then the
 * `AccountSuspended`/`AccountReactivated` events after it, read strongly consistently from the account's
 * stream, so a suspension refuses the very next request. Reads only event types (no parsing, no fold),
 * so the authorizer stays small; the snapshot key is the one functions/views/account-snapshots.ts writes.
 */
export async function isSuspended(deps: Pick<Deps, 'doc' | 'tables' | 'store'>, accountId: string): Promise<boolean> {
  // Deps without a views table (unit tests on the in-memory store) read the whole stream instead.
  const { Item } = !deps.doc ? { Item: undefined } : await deps.doc.send(
    new GetCommand({
      TableName: deps.tables.views,
      Key: { pk: `snapshot#account#${accountId}`, sk: `v${ACCOUNT_STATE_VERSION}.q${QUOTA_STATE_VERSION}` },
      ProjectionExpression: 'version, #state.suspended',
      ExpressionAttributeNames: { '#state': 'state' },
    }),
  );
  let suspended = Boolean((Item?.state as { suspended?: unknown } | undefined)?.suspended);
  const { events } = await deps.store.readStream(`account#${accountId}`, Item ? (Item.version as number) + 1 : 1);
  for (const event of events) {
    if (event.type === 'AccountSuspended') suspended = true;
    if (event.type === 'AccountReactivated') suspended = false;
  }
  return suspended;
}

import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { HoldSettled } from '../../events/account-events';
import type { Deps } from '../deps';
import { queryAll } from '../adapters/dynamodb';

/** One usage line: what one funding source paid for one job. */
export interface UsageLine {
  jobId: string;
  gpuType: string;
  /** `trial`, or the credit's id. */
  source: string;
  gpuSeconds: number;
  trialGpuSeconds: number;
  /** Fen. */
  cost: number;
  periodStart: string;
  periodEnd: string;
}

/**
 * The usage lines of a settlement: one per funding source that paid anything (the trial, then each
 * credit). A job that ran no billable second has none. Pure, so it is checked in process.
 */
export function usageLinesOf(settled: HoldSettled['data'], gpuType: string): UsageLine[] {
  const periodEnd = settled.periodEnd ?? settled.settledAt;
  const periodStart = settled.periodStart ?? periodEnd;
  const lines: UsageLine[] = [];
  if (settled.trialGpuSecondsCharged > 0) {
    lines.push({
      jobId: settled.jobId,
      gpuType,
      source: 'trial',
      gpuSeconds: settled.trialGpuSecondsCharged,
      trialGpuSeconds: settled.trialGpuSecondsCharged,
      cost: 0,
      periodStart,
      periodEnd,
    });
  }
  for (const credit of settled.creditsCharged ?? []) {
    if (credit.gpuSeconds === 0 && credit.amount === 0) continue;
    lines.push({ jobId: settled.jobId, gpuType, source: credit.creditId, gpuSeconds: credit.gpuSeconds, trialGpuSeconds: 0, cost: credit.amount, periodStart, periodEnd });
  }
  return lines;
}

const pkOf = (accountId: string) => `account#${accountId}#usage`;
/** Sorted by when the job stopped; job id × source makes each line's key unique and stable. */
const skOf = (line: UsageLine) => `${line.periodEnd}#${line.jobId}#${line.source}`;

/**
 * Writes usage lines. A line's key is its job × source and its content is a function of the
 * settlement event, so a redelivered or reordered record rewrites identical items.
 */
export async function putUsageLines(deps: Pick<Deps, 'doc' | 'tables'>, accountId: string, lines: UsageLine[]): Promise<void> {
  for (const line of lines) {
    await deps.doc.send(new PutCommand({ TableName: deps.tables.views, Item: { pk: pkOf(accountId), sk: skOf(line), kind: 'usage', ...line } }));
  }
}

/** An account's usage lines whose period ended in [from, to), newest first. */
export async function listUsageLines(
  deps: Pick<Deps, 'doc' | 'tables'>,
  accountId: string,
  range: { from?: string; to?: string },
): Promise<UsageLine[]> {
  // ISO times sort as strings; '#' sorts below the digits, so `<to>` excludes lines ending at `to`, and
  // '~' sorts above every key. DynamoDB refuses BETWEEN with its bounds reversed: that range is empty.
  const from = range.from ?? '0';
  const to = range.to ?? '~';
  if (from > to) return [];
  const items = await queryAll(deps.doc, {
    TableName: deps.tables.views,
    KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
    ExpressionAttributeValues: { ':pk': pkOf(accountId), ':from': from, ':to': to },
    ScanIndexForward: false,
  });
  return items.map((item) => {
    const { jobId, gpuType, source, gpuSeconds, trialGpuSeconds, cost, periodStart, periodEnd } = item as UsageLine;
    return { jobId, gpuType, source, gpuSeconds, trialGpuSeconds, cost, periodStart, periodEnd };
  });
}

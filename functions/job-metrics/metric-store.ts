import { createHash } from 'node:crypto';
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, QueryCommand, TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { metricLimits } from '../../domain/metrics/limits';
import { batchWrite, queryAll } from '../adapters/dynamodb';
import type { Deps } from '../deps';

/** One point to keep, with where it stands in the job's log. */
export interface PointToRecord {
  name: string;
  value: number;
  step: number | null;
  /** When the line was logged (epoch ms). */
  timeMs: number;
  /**
   * The line's place in the job's log, as a string whose sort order is log order (a zero-padded byte
   * offset locally, `<timestamp>.<event id>` from CloudWatch Logs). Writing the same line again
   * writes the same item, so a redelivered batch changes nothing.
   */
  position: string;
}

/** A point as read back. */
export interface StoredPoint {
  step: number | null;
  timeMs: number;
  value: number;
}

/** Points of one metric per item: ~30 bytes each keeps an item far below DynamoDB's 400 KB. */
const POINTS_PER_ITEM = 1000;
const DEFAULT_RETENTION_DAYS = 365;
/** The sort key of a job's count of recorded points (below every `m#` key). */
const COUNT_KEY = '#count';
/** The sort keys of the batches counted (above `#count`, below every `m#` key). */
const BATCH_PREFIX = 'b#';
/** Contention on a job's count is between its nodes' log streams: a handful of writers at most. */
const MAX_COUNT_ATTEMPTS = 20;

/**
 * The metrics table (infra/tables.ts): a job's points as chunks of one metric each, keyed
 * `pk` = job id, `sk` = `m#<metric>#<position of its first point>`, the points a JSON array of
 * `[time ms, step, value]`. Metric names never hold `#`, which sorts below every character they may
 * hold, so a query over `m#` returns each metric's chunks together and in log order.
 */
export class MetricStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly retentionDays = DEFAULT_RETENTION_DAYS,
    private readonly maxPoints: number = metricLimits.maxPointsPerJob,
    private readonly maxMetrics: number = metricLimits.maxMetricsPerJob,
  ) {}

  /**
   * Keeps `points` (in log order) of a job, up to the limits on points per job in all
   * ({@link metricLimits.maxPointsPerJob}) and on its metric names ({@link metricLimits.maxMetricsPerJob}:
   * points of names past the first that many are dropped); what would go beyond them is dropped.
   *
   * Counting is idempotent per batch: a batch is named by the positions and names of its points (a
   * redelivered subscription batch, or lines read again, name the same batch), and the job's count is
   * raised in one transaction with an item recording that batch and how many of its points it kept. A
   * batch seen before is not counted again: its kept points are written again (the same items), so a
   * delivery that failed halfway completes. The count item carries a version, so batches of a job's
   * several log streams (one per node) arriving at once are each counted exactly once.
   * @returns how many were kept. @throws any DynamoDB error (then some chunks may be written: retry the same points).
   */
  async record(jobId: string, points: readonly PointToRecord[], nowMs: number): Promise<number> {
    if (points.length === 0) return 0;
    const expiresAt = Math.floor(nowMs / 1000) + this.retentionDays * 86_400;
    const batchKey = `${BATCH_PREFIX}${createHash('sha256').update(points.map((p) => `${p.position}\u0000${p.name}`).join('\n')).digest('base64url')}`;
    const { kept: keptCount, names } = await this.count(jobId, batchKey, points, expiresAt);
    const kept = (names ? points.filter((p) => names.has(p.name)) : points).slice(0, keptCount);
    const byName = new Map<string, PointToRecord[]>();
    for (const point of kept) {
      const series = byName.get(point.name);
      if (series) series.push(point);
      else byName.set(point.name, [point]);
    }
    const items = [...byName].flatMap(([name, series]) => {
      const chunks = [];
      for (let i = 0; i < series.length; i += POINTS_PER_ITEM) chunks.push(series.slice(i, i + POINTS_PER_ITEM));
      return chunks.map((chunk) => ({
        PutRequest: {
          Item: { pk: jobId, sk: `m#${name}#${chunk[0]!.position}`, points: JSON.stringify(chunk.map((p) => [p.timeMs, p.step, p.value])), expiresAt },
        },
      }));
    });
    await batchWrite(this.doc, this.tableName, items, { concurrency: 4 });
    return kept.length;
  }

  /**
   * Which of a batch's points the job keeps, counting the batch once however often it is recorded:
   * the first `kept` of those whose name is in `names` (every name when `names` is absent).
   */
  private async count(jobId: string, batchKey: string, points: readonly PointToRecord[], expiresAt: number): Promise<{ kept: number; names?: Set<string> }> {
    for (let attempt = 0; ; attempt++) {
      const [{ Item: batch }, { Item: counter }] = await Promise.all([
        this.doc.send(new GetCommand({ TableName: this.tableName, Key: { pk: jobId, sk: batchKey }, ConsistentRead: true })),
        this.doc.send(new GetCommand({ TableName: this.tableName, Key: { pk: jobId, sk: COUNT_KEY }, ConsistentRead: true })),
      ]);
      if (batch) return { kept: Number(batch.kept), names: batch.names as Set<string> | undefined };
      const before = Number(counter?.points ?? 0);
      const version = Number(counter?.version ?? 0);
      // Points of names the job has, or of the first new names while it has fewer than its limit.
      const known = new Set((counter?.names as Set<string> | undefined) ?? []);
      const admitted = points.filter((p) => known.has(p.name) || (known.size < this.maxMetrics && known.add(p.name)));
      const kept = Math.max(0, Math.min(admitted.length, this.maxPoints - before));
      // Nothing to keep: the count only grows and names are never removed, so a redelivery finds nothing to keep again.
      if (kept === 0) return { kept: 0 };
      const names = new Set(admitted.slice(0, kept).map((p) => p.name));
      try {
        await this.doc.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Update: {
                  TableName: this.tableName,
                  Key: { pk: jobId, sk: COUNT_KEY },
                  UpdateExpression: 'SET #points = :points, #version = :next, expiresAt = :e ADD #names :names',
                  ConditionExpression: version === 0 ? 'attribute_not_exists(#version)' : '#version = :version',
                  ExpressionAttributeNames: { '#points': 'points', '#version': 'version', '#names': 'names' },
                  ExpressionAttributeValues: { ':points': before + kept, ':next': version + 1, ':e': expiresAt, ':names': names, ...(version === 0 ? {} : { ':version': version }) },
                },
              },
              {
                Put: {
                  TableName: this.tableName,
                  Item: { pk: jobId, sk: batchKey, kept, names, expiresAt },
                  ConditionExpression: 'attribute_not_exists(pk)',
                },
              },
            ],
          }),
        );
        return { kept, names };
      } catch (error) {
        // Another batch of the job was counted meanwhile, or this one: read again and decide again.
        if (!(error instanceof TransactionCanceledException) || attempt >= MAX_COUNT_ATTEMPTS) throw error;
        // Concurrent transactions on the one counter can cancel each other: back off, with jitter, so
        // that one of them wins the next round instead of all retrying in step.
        await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(200, 5 * 2 ** attempt)));
      }
    }
  }

  /**
   * Records which job writes a CloudWatch log stream (Batch names streams after the task, not the job).
   * Idempotent. @throws any DynamoDB error.
   */
  async linkLogStream(logStream: string, jobId: string, nowMs: number): Promise<void> {
    const expiresAt = Math.floor(nowMs / 1000) + this.retentionDays * 86_400;
    await this.doc.send(new PutCommand({ TableName: this.tableName, Item: { pk: `stream#${logStream}`, sk: 'job', jobId, expiresAt } }));
  }

  /** The job that writes a log stream, if {@link linkLogStream} recorded it. @throws any DynamoDB error. */
  async jobOfLogStream(logStream: string): Promise<string | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: { pk: `stream#${logStream}`, sk: 'job' }, ConsistentRead: true }));
    return Item?.jobId as string | undefined;
  }

  /**
   * Every metric of a job (or only `name`), each series in log order; points past their retention are left out.
   * @throws any DynamoDB error.
   */
  async read(jobId: string, nowMs: number, name?: string): Promise<Map<string, StoredPoint[]>> {
    const items = await queryAll(this.doc, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': jobId, ':prefix': name === undefined ? 'm#' : `m#${name}#` },
    });
    return seriesOf(items, nowMs);
  }

  /**
   * The first and last point of each metric of a job (or only `name`): the series downsampled to two
   * points, read with two one-item queries per metric (the job's count item lists the names) instead
   * of the whole series. @throws any DynamoDB error.
   */
  async readEnds(jobId: string, nowMs: number, name?: string): Promise<Map<string, StoredPoint[]>> {
    let names = name === undefined ? undefined : [name];
    if (!names) {
      const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: { pk: jobId, sk: COUNT_KEY } }));
      names = [...((Item?.names as Set<string> | undefined) ?? [])].sort();
    }
    const end = async (metric: string, forward: boolean) =>
      (
        await this.doc.send(
          new QueryCommand({
            TableName: this.tableName,
            KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
            ExpressionAttributeValues: { ':pk': jobId, ':prefix': `m#${metric}#` },
            ScanIndexForward: forward,
            Limit: 1,
          }),
        )
      ).Items ?? [];
    const items = (await Promise.all(names.map(async (metric) => [...(await end(metric, true)), ...(await end(metric, false))]))).flat();
    const series = seriesOf(items, nowMs);
    for (const [metric, points] of series) series.set(metric, points.length > 2 ? [points[0]!, points[points.length - 1]!] : points);
    return series;
  }
}

/** Chunks (in sort-key order) as series by metric, leaving out expired ones; a chunk read twice counts once. */
function seriesOf(items: ReadonlyArray<Record<string, any>>, nowMs: number): Map<string, StoredPoint[]> {
  const series = new Map<string, StoredPoint[]>();
  const seen = new Set<string>();
  for (const item of items) {
    if ((typeof item.expiresAt === 'number' && item.expiresAt < nowMs / 1000) || seen.has(item.sk)) continue;
    seen.add(item.sk);
    const sk = item.sk as string;
    const metric = sk.slice(2, sk.indexOf('#', 2));
    const points = series.get(metric) ?? [];
    for (const [timeMs, step, value] of JSON.parse(item.points as string) as Array<[number, number | null, number]>) points.push({ timeMs, step, value });
    series.set(metric, points);
  }
  return series;
}

/** The metric store of a deployment's dependencies. */
export const metricStore = (deps: Pick<Deps, 'doc' | 'tables' | 'metricsRetentionDays'>) =>
  new MetricStore(deps.doc, deps.tables.metrics, deps.metricsRetentionDays);

import { gunzipSync } from 'node:zlib';
import * as z from 'zod';
import type { LineParser } from '../domain/metrics/parse';
import { load } from './aggregates/aggregate';
import { jobs } from './aggregates/jobs';
import type { Deps } from './deps';
import { lambda } from './lambda';
import { metricStore } from './job-metrics/metric-store';
import { parserFor, recordLines } from './job-metrics/record-lines';

/** What CloudWatch Logs sends a subscription's Lambda: `awslogs.data`, base64 of gzipped JSON. */
const SubscriptionEvent = z.object({ awslogs: z.object({ data: z.string() }) });

/** The decoded payload. `CONTROL_MESSAGE` is the delivery check sent when the subscription is created. */
export const LogsPayload = z.object({
  messageType: z.enum(['DATA_MESSAGE', 'CONTROL_MESSAGE']),
  logGroup: z.string(),
  logStream: z.string(),
  logEvents: z.array(z.object({ id: z.string(), timestamp: z.number(), message: z.string() })),
});

/** An unknown stream: Lambda's retries of this asynchronous invocation give the stream's index time to arrive. */
export class UnknownLogStreamError extends Error {}

/**
 * Target of the job log group's subscription filter: reads each batch of log events for metrics
 * (the job's own regexes, else JSON lines) and records their points. The job is found from the log
 * stream (recorded by `batch-events`, job-metrics/log-streams.ts); a stream not indexed yet throws, and Lambda invokes again
 * later (asynchronous invocations are retried twice). A point's position is its event's timestamp
 * and id, so a redelivered batch writes the same items again.
 * @throws UnknownLogStreamError, or any store error (then the batch is retried whole).
 */
export const make = (deps: Deps) => {
  const store = metricStore(deps);
  // Parsers by job, for the life of the container: a job's definitions never change.
  const parsers = new Map<string, Promise<LineParser>>();
  const parserOf = (jobId: string) => {
    let parser = parsers.get(jobId);
    if (!parser) {
      parser = load(deps.store, jobs, jobId).then(({ state }) => parserFor(state.status === 'none' ? [] : state.job.metricDefinitions));
      parser.catch(() => parsers.delete(jobId));
      parsers.set(jobId, parser);
    }
    return parser;
  };
  return async (event: unknown): Promise<{ points: number }> => {
    const payload = LogsPayload.parse(JSON.parse(gunzipSync(Buffer.from(SubscriptionEvent.parse(event).awslogs.data, 'base64')).toString('utf8')));
    if (payload.messageType !== 'DATA_MESSAGE' || payload.logEvents.length === 0) return { points: 0 };
    const jobId = await store.jobOfLogStream(payload.logStream);
    if (!jobId) throw new UnknownLogStreamError(`No job known for log stream ${payload.logStream} yet`);
    const lines = payload.logEvents.map((e) => ({ text: e.message, timeMs: e.timestamp, position: `${String(e.timestamp).padStart(13, '0')}.${e.id}` }));
    const points = await recordLines(store, jobId, await parserOf(jobId), lines, deps.now().getTime());
    return { points };
  };
};

export const handler = lambda(make);

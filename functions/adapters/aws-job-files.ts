import { GetLogEventsCommand, ResourceNotFoundException, type CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { load } from '../aggregates/aggregate';
import { jobs } from '../aggregates/jobs';
import { s3OutputUri, type Compute, type JobFiles } from './compute';
import type { EventStore } from './event-store';

/** The most log text one read returns (a Lambda response carries at most 6 MB). */
export const MAX_LOG_CHARS = 4 * 1024 * 1024;
/** Pages of `GetLogEvents` read per log stream at most (each up to 1 MB). */
const MAX_PAGES = 8;

export interface AwsJobFilesConfig {
  store: EventStore;
  compute: Pick<Compute, 'describe'>;
  logs: CloudWatchLogsClient;
  /** The log group Batch writes job logs to. */
  logGroup: string;
  /** The S3 bucket of outputs. */
  bucket: string;
}

/**
 * A job's files in AWS: output under `s3://<bucket>/outputs/<job id>/`; logs from CloudWatch Logs,
 * read from the log streams Batch names for each of the job's attempts (oldest first, so a retried
 * job's log reads as one story), via `GetLogEvents` from the head.
 */
export class AwsJobFiles implements JobFiles {
  constructor(private readonly config: AwsJobFilesConfig) {}

  outputUri(jobId: string): string {
    return s3OutputUri(this.config.bucket, jobId);
  }

  /**
   * The job's output so far, at most {@link MAX_LOG_CHARS} characters: '' before it has a compute
   * job or a log stream. @throws on a CloudWatch Logs or Batch error other than a missing stream.
   */
  async readLogs(jobId: string): Promise<string> {
    const { state } = await load(this.config.store, jobs, jobId);
    if (state.status === 'none' || state.batchJobId === null) return '';
    let streams = await this.logStreams(state.batchJobId);
    // A multi-node job logs through its nodes; the main node (#0) holds the training's output.
    if (streams.length === 0 && state.job.gpuCount > 8) streams = await this.logStreams(`${state.batchJobId}#0`);
    let text = '';
    for (const stream of streams) {
      text += await this.readStream(stream, MAX_LOG_CHARS - text.length);
      if (text.length >= MAX_LOG_CHARS) break;
    }
    return text;
  }

  private async logStreams(batchJobId: string): Promise<string[]> {
    const [described] = await this.config.compute.describe([batchJobId]);
    if (!described) return [];
    const { detail } = described;
    const names = [
      ...(detail.attempts ?? []).map((a) => (a.container as { logStreamName?: string } | undefined)?.logStreamName),
      (detail.container as { logStreamName?: string } | undefined)?.logStreamName,
    ];
    return [...new Set(names.filter((n): n is string => typeof n === 'string' && n.length > 0))];
  }

  private async readStream(logStreamName: string, budget: number): Promise<string> {
    let text = '';
    let nextToken: string | undefined;
    for (let page = 0; page < MAX_PAGES && text.length < budget; page++) {
      let out;
      try {
        out = await this.config.logs.send(
          new GetLogEventsCommand({ logGroupName: this.config.logGroup, logStreamName, startFromHead: true, ...(nextToken ? { nextToken } : {}) }),
        );
      } catch (error) {
        if (error instanceof ResourceNotFoundException) return text; // not created yet
        throw error;
      }
      for (const event of out.events ?? []) text += `${event.message ?? ''}\n`;
      // The end of the stream: the forward token comes back unchanged.
      if (!out.nextForwardToken || out.nextForwardToken === nextToken) break;
      nextToken = out.nextForwardToken;
    }
    return text.slice(0, budget);
  }
}

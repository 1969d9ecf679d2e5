import type { MetricDefinition } from '../../domain/metrics/definitions';
import { lineParser, type LineParser } from '../../domain/metrics/parse';
import type { MetricStore, PointToRecord } from './metric-store';
import { compileJobDefinitions } from './regex-engine';

/** A line of a job's log, with when it was logged and its place in the log (see {@link PointToRecord.position}). */
export interface LogLine {
  text: string;
  timeMs: number;
  position: string;
}

/** The parser of a job's log, from the definitions it was submitted with (none: JSON lines). */
export const parserFor = async (definitions: readonly MetricDefinition[] | undefined): Promise<LineParser> => lineParser(await compileJobDefinitions(definitions));

/**
 * Reads `lines` of a job's log for metrics and keeps what they record.
 * @returns how many points were kept. @throws any store error (recording the same lines again is harmless).
 */
export async function recordLines(store: MetricStore, jobId: string, parse: LineParser, lines: readonly LogLine[], nowMs: number): Promise<number> {
  const points: PointToRecord[] = [];
  for (const line of lines) {
    for (const point of parse(line.text)) points.push({ ...point, timeMs: line.timeMs, position: line.position });
  }
  return store.record(jobId, points, nowMs);
}

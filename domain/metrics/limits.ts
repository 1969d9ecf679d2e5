/**
 * The limits of metrics, in one place: what a job may define, what one log line may be, how many
 * points a job keeps. Docs (docs/metrics.md) and the API's error messages quote these figures.
 */
export const metricLimits = {
  /** Definitions of one job (API.md). */
  maxDefinitions: 20,
  /** Characters of one definition's regex. */
  maxRegexLength: 512,
  /**
   * RE2 instructions of a job's regexes together (their program size): matching costs time linear in
   * a line's length times the instructions alive at once, so this bounds what a line can cost
   * (`(?:a|aa){1,999}(\d)`, 5,000 instructions in 19 characters, takes about a second on a 16 KiB line).
   */
  maxRegexProgramSize: 2_000,
  /** Characters of a metric's name. */
  maxNameLength: 64,
  /** Log lines longer than this are not read for metrics (a regex or JSON pass over megabytes of one line). */
  maxLineLength: 16 * 1024,
  /** Different metric names one job records; points of further names are dropped. */
  maxMetricsPerJob: 100,
  /** Points one job records in all; later points are dropped. */
  maxPointsPerJob: 200_000,
  /**
   * Points one `GET /v1/jobs/{id}/metrics` answer holds, shared among its series (each then gets
   * fewer than `max_points` when many are asked for at once): about 4.5 MB of JSON, within Lambda's
   * 6 MB response payload, where a job's 200,000 points would not be.
   */
  maxPointsPerResponse: 50_000,
} as const;

/** What a metric's name may be: letters, digits and `_ . : / -` (Trainer names like `train/loss` included). */
export const METRIC_NAME = /^[A-Za-z0-9_.:/-]{1,64}$/;

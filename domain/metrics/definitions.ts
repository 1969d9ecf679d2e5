import type { RE2JS } from 're2js';
import { METRIC_NAME, metricLimits } from './limits';

/** A job's own metric, as submitted: `{ name: 'loss', regex: 'loss=([0-9.eE+-]+)' }`. */
export interface MetricDefinition {
  name: string;
  regex: string;
}

/**
 * An RE2-semantics regex engine (re2js's `RE2JS`), passed in by the caller: the engine is 147 KiB
 * minified, so functions load it only when a job names its own regexes (functions/job-metrics/regex-engine.ts).
 */
export type RegexEngine = Pick<typeof RE2JS, 'compile'>;

type Re2 = ReturnType<RegexEngine['compile']>;

/** A definition whose regex is compiled by an RE2-semantics engine: matching is linear in the line's length. */
export interface CompiledDefinition {
  name: string;
  pattern: Re2;
}

/** Why a definition was refused, naming it. */
export class InvalidMetricDefinitionError extends Error {
  constructor(
    readonly index: number,
    readonly detail: string,
  ) {
    super(`metric_definitions[${index}]: ${detail}`);
  }
}

/**
 * Compiles a job's metric definitions with RE2 semantics (re2js: no backreferences or lookaround, so
 * no pattern can backtrack catastrophically).
 * @throws InvalidMetricDefinitionError for the first definition that is not valid: a bad name, a
 * duplicate, a regex too long, not RE2 syntax, without a capture group, or past the job's RE2
 * program size ({@link metricLimits.maxRegexProgramSize}); or more than the limit.
 */
export function compileDefinitions(definitions: readonly MetricDefinition[], engine: RegexEngine): CompiledDefinition[] {
  if (definitions.length > metricLimits.maxDefinitions) {
    throw new InvalidMetricDefinitionError(metricLimits.maxDefinitions, `at most ${metricLimits.maxDefinitions} definitions`);
  }
  const seen = new Set<string>();
  let programSize = 0;
  return definitions.map(({ name, regex }, index) => {
    const fail = (detail: string) => new InvalidMetricDefinitionError(index, `${JSON.stringify(name)}: ${detail}`);
    if (!METRIC_NAME.test(name)) throw fail(`name must be 1-${metricLimits.maxNameLength} letters, digits or _ . : / -`);
    if (seen.has(name)) throw fail('name is defined twice');
    seen.add(name);
    if (regex.length === 0 || regex.length > metricLimits.maxRegexLength) throw fail(`regex must be 1-${metricLimits.maxRegexLength} characters`);
    let pattern: Re2;
    try {
      pattern = engine.compile(regex);
    } catch (error) {
      throw fail(`regex ${JSON.stringify(regex)} is not valid RE2 syntax (${(error as Error).message})`);
    }
    if (pattern.groupCount() < 1) throw fail(`regex ${JSON.stringify(regex)} needs a capture group for the value`);
    programSize += pattern.programSize();
    if (programSize > metricLimits.maxRegexProgramSize) {
      throw fail(`regex ${JSON.stringify(regex)} compiles to ${pattern.programSize()} RE2 instructions; a job's regexes may total at most ${metricLimits.maxRegexProgramSize}`);
    }
    return { name, pattern };
  });
}

import type { CompiledDefinition } from './definitions';
import { METRIC_NAME, metricLimits } from './limits';

/** One value read from a log line; its time is the line's (the caller's). */
export interface ParsedPoint {
  name: string;
  value: number;
  /** The line's `step` field, when it has one. */
  step: number | null;
}

/** Turns one log line (no newline) into the points it records; `[]` for a line without metrics. */
export type LineParser = (line: string) => ParsedPoint[];

/**
 * The parser of a job's log. With definitions, each regex runs on each line and its first capture
 * group, read as a number, is the value (a regex that does not match, or a value that is not a finite
 * number, records nothing). Without, a line that is a JSON object records each finite numeric field
 * (its integer `step` field being the step), and so does a Python dict of numbers as Hugging Face's
 * Trainer prints them (`{'loss': 1.23, 'learning_rate': 3e-05, 'epoch': 0.5}`).
 * Lines longer than {@link metricLimits.maxLineLength} record nothing.
 */
export function lineParser(definitions: readonly CompiledDefinition[]): LineParser {
  if (definitions.length > 0) return (line) => (line.length > metricLimits.maxLineLength ? [] : byRegex(definitions, line));
  return (line) => {
    if (line.length > metricLimits.maxLineLength) return [];
    // A progress bar redraws with '\r': what the line ends with is what was printed last.
    const text = line.slice(line.lastIndexOf('\r') + 1).trim();
    if (text.length < 2 || text[0] !== '{' || text[text.length - 1] !== '}') return [];
    return text[1] === "'" || text.startsWith("{ '") ? byPythonDict(text) : byJson(text);
  };
}

function byRegex(definitions: readonly CompiledDefinition[], line: string): ParsedPoint[] {
  const points: ParsedPoint[] = [];
  for (const { name, pattern } of definitions) {
    const matcher = pattern.matcher(line);
    if (!matcher.find()) continue;
    const value = toNumber(matcher.group(1));
    if (value !== null) points.push({ name, value, step: null });
  }
  return points;
}

// Python's json.dumps writes a diverged loss as a bare NaN or Infinity, which is not JSON: read as null.
// Each match starts at one of `: [ ,` and spans only the whitespace after it, so the pass is linear.
const PYTHON_NON_FINITE = /([:[,]\s*)-?(?:NaN|Infinity)(?=\s*[,}\]])/g;

function byJson(text: string): ParsedPoint[] {
  let object: unknown;
  try {
    object = JSON.parse(text);
  } catch {
    try {
      object = JSON.parse(text.replace(PYTHON_NON_FINITE, '$1null'));
    } catch {
      return [];
    }
  }
  if (object === null || typeof object !== 'object' || Array.isArray(object)) return [];
  return fromFields(Object.entries(object as Record<string, unknown>));
}

// `'name': value` pairs of a Python dict repr; values stop at the next comma or brace.
// Greedy and anchored, so a pair costs time linear in its length whatever the line holds.
const PYTHON_PAIR = /^\s*'([^']*)'\s*:([^,{}]*)(,|$)/;

function byPythonDict(text: string): ParsedPoint[] {
  const fields: Array<[string, unknown]> = [];
  let rest = text.slice(1, -1);
  while (rest.trim().length > 0) {
    const match = PYTHON_PAIR.exec(rest);
    if (!match) return [];
    fields.push([match[1]!, toNumber(match[2]!)]);
    rest = rest.slice(match[0].length);
  }
  return fromFields(fields);
}

function fromFields(entries: ReadonlyArray<[string, unknown]>): ParsedPoint[] {
  // A name given twice counts once, with its last value, as a Python dict or JSON.parse keeps it.
  const fields = [...new Map(entries)];
  const stepField = fields.find(([key]) => key === 'step')?.[1];
  const step = typeof stepField === 'number' && Number.isSafeInteger(stepField) && stepField >= 0 ? stepField : null;
  const points: ParsedPoint[] = [];
  for (const [name, value] of fields) {
    if (name === 'step' || typeof value !== 'number' || !Number.isFinite(value) || !METRIC_NAME.test(name)) continue;
    points.push({ name, value, step });
  }
  return points;
}

/** A decimal number as printed by Python, JS or C (`1.5`, `-3e-05`, `+2`); null for anything else. */
function toNumber(text: string | null): number | null {
  if (text === null || !/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text.trim())) return null;
  const value = Number(text.trim());
  return Number.isFinite(value) ? value : null;
}

import { RE2JS } from 're2js';
import { describe, expect, it } from 'vitest';
import { compileDefinitions, InvalidMetricDefinitionError, type MetricDefinition } from '../../../../domain/metrics/definitions';
import { metricLimits } from '../../../../domain/metrics/limits';
import { lineParser, type ParsedPoint } from '../../../../domain/metrics/parse';

/** Given a job's definitions (none: JSON and Trainer dicts) / a line / Then these points. */
const given = (definitions: MetricDefinition[] = []) => ({
  line: (line: string) => ({ then: (points: ParsedPoint[]) => expect(lineParser(compileDefinitions(definitions, RE2JS))(line)).toEqual(points) }),
});

describe('metric lines without definitions', () => {
  it('reads each numeric field of a JSON object line, with its step', () =>
    given().line('{"step": 100, "loss": 1.23, "lr": 0.0003}').then([
      { name: 'loss', value: 1.23, step: 100 },
      { name: 'lr', value: 0.0003, step: 100 },
    ]));

  it('records no step when the line has none, or a step that is not a whole number', () => {
    given().line('{"loss": 2}').then([{ name: 'loss', value: 2, step: null }]);
    given().line('{"step": 1.5, "loss": 2}').then([{ name: 'loss', value: 2, step: null }]);
  });

  it('skips fields that are not finite numbers, and names it cannot keep', () =>
    given().line('{"loss": "1.2", "ok": true, "acc": null, "nested": {"a": 1}, "bad#name": 3, "acc1": 0.5}').then([
      { name: 'acc1', value: 0.5, step: null },
    ]));

  it("reads the other fields of a line where Python's json.dumps wrote NaN or Infinity (not JSON)", () => {
    given().line('{"step": 7, "loss": NaN, "lr": 0.001, "gn": -Infinity, "note": "loss: NaN, again"}').then([{ name: 'lr', value: 0.001, step: 7 }]);
    given().line('{"step": 8, "loss": Infinity}').then([]);
    given().line('{"loss": NaNx, "lr": 1}').then([]);
  });

  it("reads Hugging Face Trainer's log dicts", () =>
    given().line("{'loss': 1.23, 'grad_norm': 4.5, 'learning_rate': 3e-05, 'epoch': 0.5}").then([
      { name: 'loss', value: 1.23, step: null },
      { name: 'grad_norm', value: 4.5, step: null },
      { name: 'learning_rate', value: 3e-5, step: null },
      { name: 'epoch', value: 0.5, step: null },
    ]));

  it('records a name given twice once, with its last value', () =>
    given().line("{'loss': 1, 'lr': 2, 'loss': 3}").then([
      { name: 'loss', value: 3, step: null },
      { name: 'lr', value: 2, step: null },
    ]));

  it('reads the dict a progress bar redrew over, and skips values that are not numbers', () =>
    given().line("  5%|▌         | 50/1000 [00:10<03:10]\r{'eval_loss': 0.9, 'eval_runtime': 'n/a', 'x': nan}").then([
      { name: 'eval_loss', value: 0.9, step: null },
    ]));

  it('records nothing for plain text, JSON that is not an object, or broken JSON', () => {
    for (const line of ['step 1 loss 2.0', '[1, 2]', '{"loss": 1.2', '{not json}', '', '{}', "{'loss' 1}"]) given().line(line).then([]);
  });

  it('records nothing for a line over the length limit', () =>
    given().line(`{"loss": 1, "pad": "${'x'.repeat(metricLimits.maxLineLength)}"}`).then([]));
});

describe('metric lines with definitions', () => {
  const definitions = [
    { name: 'loss', regex: 'loss=([0-9.eE+-]+)' },
    { name: 'acc', regex: 'acc: ([0-9.]+)%' },
  ];

  it("records each definition's first capture group", () =>
    given(definitions).line('epoch 3 loss=1.5e-1 acc: 97.5%').then([
      { name: 'loss', value: 0.15, step: null },
      { name: 'acc', value: 97.5, step: null },
    ]));

  it('records nothing where the capture is not a number, and ignores JSON lines', () => {
    given(definitions).line('loss=-- acc: .%').then([]);
    given(definitions).line('{"loss": 1}').then([]);
  });

  it('runs hostile patterns in linear time: nested quantifiers on a line that almost matches', () => {
    // In a backtracking engine each of these takes 2^n steps on n characters without the final one.
    const hostile = [
      { name: 'a', regex: '^(a+)+$' },
      { name: 'b', regex: '^(a|aa)+b=(\\d+)$' },
      { name: 'c', regex: '(x+x+)+y' },
      { name: 'd', regex: '^(?:\\w+\\s?)*?(\\d+)$' },
    ];
    const parse = lineParser(compileDefinitions(hostile, RE2JS));
    for (const line of [`${'a'.repeat(5000)}!`, `${'x'.repeat(5000)}`, `${'word '.repeat(2000)}!`]) expect(parse(line)).toEqual([]);
    expect(parse(`${'a'.repeat(5000)}`)).toEqual([]); // (a+)+ matches, but its capture is no number
    expect(parse('word word 7')).toEqual([{ name: 'd', value: 7, step: null }]);
  });
});

describe('metric definitions at submission', () => {
  const refused = (definitions: MetricDefinition[], message: RegExp) => {
    expect(() => compileDefinitions(definitions, RE2JS)).toThrow(InvalidMetricDefinitionError);
    expect(() => compileDefinitions(definitions, RE2JS)).toThrow(message);
  };

  it('refuses what RE2 cannot run in linear time: backreferences and lookaround', () => {
    refused([{ name: 'loss', regex: '(a)\\1=([0-9.]+)' }], /metric_definitions\[0\]: "loss": regex .* not valid RE2 syntax/);
    refused([{ name: 'ok', regex: '(\\d+)' }, { name: 'lr', regex: '(?=lr)lr=(\\d+)' }], /metric_definitions\[1\]: "lr"/);
  });

  it('refuses a regex without a capture group, a bad or repeated name, a regex too long, too many', () => {
    refused([{ name: 'loss', regex: 'loss=[0-9]+' }], /needs a capture group/);
    refused([{ name: 'my loss', regex: '(\\d)' }], /name must be/);
    refused([{ name: 'l', regex: '(\\d)' }, { name: 'l', regex: '(\\w)' }], /defined twice/);
    refused([{ name: 'l', regex: `(\\d)${'x'.repeat(metricLimits.maxRegexLength)}` }], /regex must be 1-512/);
    refused(Array.from({ length: 21 }, (_, i) => ({ name: `m${i}`, regex: '(\\d)' })), /at most 20/);
  });

  it('refuses regexes short in characters but large in RE2 instructions, which would cost every line dearly', () => {
    // Counted repetition expands: 19 characters, up to 5,000 instructions stepped at each character of a line.
    refused([{ name: 'x', regex: '(?:a|aa){1,999}(\\d)' }], /"x": regex .* compiles to 4999 RE2 instructions; a job's regexes may total at most 2000/);
    // The budget is the job's: each of these passes alone, together they do not.
    const wide = (name: string) => ({ name, regex: '([a-z]{1,200})' });
    expect(compileDefinitions([wide('a'), wide('b')], RE2JS)).toHaveLength(2);
    refused([wide('a'), wide('b'), wide('c'), wide('d'), wide('e'), wide('f')], /metric_definitions\[4\]: "e": .* at most 2000/);
    // Nested counts past RE2's own bounds are not valid syntax at all.
    refused([{ name: 'y', regex: '((a{100}){100}){100}(\\d)' }], /not valid RE2 syntax \(.*repeat count/);
    // A realistic definition is far below the budget: twenty of them pass.
    expect(compileDefinitions(Array.from({ length: 20 }, (_, i) => ({ name: `m${i}`, regex: `m${i}[:=]\\s*([-+]?[0-9]*\\.?[0-9]+(?:[eE][-+]?[0-9]+)?)` })), RE2JS)).toHaveLength(20);
  });
});

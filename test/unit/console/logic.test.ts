import { describe, expect, it } from 'vitest';
import { SxApiError, SxConnectionError } from '../../../sdk/errors';
import { messages, pickLocale, translate, formatters, type MessageKey } from '../../../console/src/i18n';
import { errorSentence, estimateJob, gpuSecondsPerDay, metricSeries, parseCommand, parseEnv, parseMetricDefinitions } from '../../../console/src/logic';

const en = (key: MessageKey, params?: Record<string, string | number>) => translate('en', key, params);
const zh = (key: MessageKey, params?: Record<string, string | number>) => translate('zh-CN', key, params);

describe('estimateJob', () => {
  const money = (amount: number) => ({ trial_gpu_seconds: 0, amount: { amount } });

  it('charges the trial first, then credits at the price, rounding the cost up to a whole fen', () => {
    // 2 GPUs × 600 s = 1200 GPU-seconds; the trial pays 300; 900 at 1163 fen/h = 290.75 → 291 fen
    const e = estimateJob({ gpuCount: 2, maxRuntimeSeconds: 600, fenPerGpuHour: 1163, available: { trial_gpu_seconds: 300, amount: { amount: 0 } } });
    expect(e).toEqual({ maxGpuSeconds: 1200, trialGpuSeconds: 300, maxCost: 291, coveredSeconds: 150 });
  });

  it('says how long the balance pays for the job, never more than its maximum runtime', () => {
    // ¥11.63 buys one GPU-hour: 8 GPUs for 450 s
    expect(estimateJob({ gpuCount: 8, maxRuntimeSeconds: 86_400, fenPerGpuHour: 1163, available: money(1163) }).coveredSeconds).toBe(450);
    expect(estimateJob({ gpuCount: 1, maxRuntimeSeconds: 600, fenPerGpuHour: 1163, available: money(100_000) }).coveredSeconds).toBe(600);
  });

  it('covers nothing with an empty balance', () => {
    expect(estimateJob({ gpuCount: 1, maxRuntimeSeconds: 600, fenPerGpuHour: 1163, available: money(0) })).toMatchObject({ maxCost: 194, coveredSeconds: 0 });
  });
});

describe('gpuSecondsPerDay', () => {
  it('sums lines by the UTC day their period ended, with every day present', () => {
    const from = Date.parse('2026-12-01T10:00:00Z');
    const to = Date.parse('2026-12-03T10:00:00Z');
    const days = gpuSecondsPerDay(
      [
        { gpu_seconds: 10, period_end: '2026-12-01T23:59:59Z' },
        { gpu_seconds: 5, period_end: '2026-12-01T01:00:00Z' },
        { gpu_seconds: 7, period_end: '2026-12-03T00:00:00Z' },
        { gpu_seconds: 99, period_end: '2026-11-01T00:00:00Z' },
      ],
      from,
      to,
    );
    expect(days.map((d) => [new Date(d.dayMs).toISOString().slice(0, 10), d.gpuSeconds])).toEqual([
      ['2026-12-01', 15],
      ['2026-12-02', 0],
      ['2026-12-03', 7],
    ]);
  });
});

describe('the form fields', () => {
  it('reads one argument per line, keeping spaces inside an argument', () => {
    expect(parseCommand('python\n\ntrain.py\r\n--name=a b\n')).toEqual(['python', 'train.py', '--name=a b']);
  });

  it('reads NAME=value lines, values may hold "=", and names the first bad line', () => {
    expect(parseEnv('A=1\n\nB=x=y\n')).toEqual({ ok: true, value: { A: '1', B: 'x=y' } });
    expect(parseEnv('A=1\nnot a pair\n')).toEqual({ ok: false, line: 2 });
    expect(parseEnv('=v')).toEqual({ ok: false, line: 1 });
  });

  it('reads name=regex metric definitions', () => {
    expect(parseMetricDefinitions('loss=loss ([0-9.]+)\nacc=acc=([0-9.]+)')).toEqual({
      ok: true,
      value: [
        { name: 'loss', regex: 'loss ([0-9.]+)' },
        { name: 'acc', regex: 'acc=([0-9.]+)' },
      ],
    });
    expect(parseMetricDefinitions('loss=')).toEqual({ ok: false, line: 1 });
  });
});

describe('metricSeries', () => {
  it('charts by step when every point has one, with the last point’s value and step', () => {
    const points = [{ step: 1, time: '2026-12-05T08:00:00.000Z', value: 4 }, { step: 20, time: '2026-12-05T08:00:01.000Z', value: 3 }];
    expect(metricSeries({ name: 'loss', points, last: points[1]! })).toEqual({ bySteps: true, last: 3, lastStep: 20, series: { label: 'loss', x: [1, 20], y: [4, 3] } });
  });
  it('charts by time in seconds when a point has no step', () => {
    const points = [{ step: null, time: '2026-12-05T08:00:00.500Z', value: 1 }, { step: 2, time: '2026-12-05T08:00:01.000Z', value: 2 }];
    const chart = metricSeries({ name: 'ticks', points, last: points[1]! });
    expect(chart.bySteps).toBe(false);
    expect(chart.series.x).toEqual([Date.parse(points[0]!.time) / 1000, Date.parse(points[1]!.time) / 1000]);
  });
});

describe('errorSentence', () => {
  const problem = (type: string, status: number, detail?: string, errors?: Array<{ path: string; message: string }>) =>
    new SxApiError({ type, title: type, status, detail, errors }, 'POST /v1/jobs');

  it('is the problem type in words, then the server’s detail as a sentence, never JSON', () => {
    expect(errorSentence(problem('insufficient_balance', 402, 'the account can pay for 12 s of this job, it needs 60'), en)).toBe(
      'The balance cannot pay for this: redeem a voucher first. The account can pay for 12 s of this job, it needs 60.',
    );
    expect(errorSentence(problem('not_found', 404), zh)).toBe('未找到。');
  });

  it('names the invalid fields when there is no detail', () => {
    expect(errorSentence(problem('invalid_request', 400, undefined, [{ path: 'gpu_count', message: 'must be 1 to 8' }]), en)).toBe(
      'Please check the form. gpu_count: must be 1 to 8.',
    );
  });

  it('gives an unknown type its status, a network failure and anything else one line', () => {
    expect(errorSentence(problem('http_502', 502), en)).toBe('The request failed (502).');
    expect(errorSentence(new SxConnectionError('http://x', 3, new Error('refused')), en)).toBe(
      'The service cannot be reached. Check your connection and try again.',
    );
    expect(errorSentence(new Error('boom'), en)).toBe('Something went wrong: boom');
  });
});

describe('i18n', () => {
  it('follows the browser: Chinese of any region is zh-CN, English is en, anything else English', () => {
    expect(pickLocale(['zh-TW', 'en'])).toBe('zh-CN');
    expect(pickLocale(['en-GB', 'zh-CN'])).toBe('en');
    expect(pickLocale(['fr-FR', 'zh'])).toBe('zh-CN');
    expect(pickLocale(['fr-FR'])).toBe('en');
  });

  it('has every message in both languages, with the same placeholders', () => {
    const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    for (const key of Object.keys(messages.en) as MessageKey[]) {
      expect(messages['zh-CN'][key], key).toBeTruthy();
      expect(placeholders(messages['zh-CN'][key]), key).toEqual(placeholders(messages.en[key]));
    }
  });

  it('formats numbers, money in ¥ and durations for the locale', () => {
    expect(en('detail.gpuSeconds', { n: 12345 })).toBe('12,345 GPU-seconds');
    expect(formatters('en').money({ amount: 123456, currency: 'CNY' })).toBe('¥1,234.56');
    expect(formatters('zh-CN').money({ amount: 5000, currency: 'CNY' })).toBe('¥50.00');
    expect(formatters('en').duration(90)).toBe('1.5 min');
    expect(formatters('zh-CN').duration(7200)).toBe('2 小时');
  });
});

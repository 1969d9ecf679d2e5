import { describe, expect, it } from 'vitest';
import { ago } from '../../../cli/format';

describe('ago: relative times as sx prints them', () => {
  const now = Date.parse('2026-01-02T03:04:05.000Z');
  const at = (offsetMs: number) => new Date(now + offsetMs).toISOString();

  it('says "just now" within 5 seconds either side, so a job that starts and ends in that moment reads "just now → just now"', () => {
    expect(ago(at(0), now)).toBe('just now');
    expect(ago(at(-4_400), now)).toBe('just now');
    expect(ago(at(4_400), now)).toBe('just now');
    expect(`${ago(at(-1_000), now)} → ${ago(at(0), now)}`).toBe('just now → just now');
  });

  it('counts whole units past that, in the past and the future', () => {
    expect(ago(at(-5_000), now)).toBe('5 seconds ago');
    expect(ago(at(-90_000), now)).toBe('1 minute ago');
    expect(ago(at(-2 * 3600_000), now)).toBe('2 hours ago');
    expect(ago(at(599_600), now)).toBe('in 10 minutes');
    expect(ago(at(598_000), now)).toBe('in 9 minutes');
  });

  it('is empty for a time that is not there', () => {
    expect(ago(null, now)).toBe('');
    expect(ago(undefined, now)).toBe('');
  });
});

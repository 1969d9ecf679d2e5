import { describe, expect, it } from 'vitest';
import { currentSchemaVersion, upcast, type EventHistory } from '../../../events/upcasters';

const stored = (type: string, schemaVersion: number, data: Record<string, unknown>) => ({ streamId: 's#1', version: 1, type, schemaVersion, data, metadata: {}, at: '2026-01-01T00:00:00.000Z' });

// A made-up history: v1 had `name`, v2 split it, v3 added a default.
const histories: Record<string, EventHistory> = {
  Renamed: {
    current: 3,
    upcasters: {
      1: ({ name, ...rest }) => ({ ...rest, first: String(name).split(' ')[0], last: String(name).split(' ')[1] }),
      2: (data) => ({ ...data, title: data.title ?? null }),
    },
  },
  Broken: { current: 3, upcasters: { 2: (data) => data } },
};

describe('upcasting', () => {
  it('applies each step from the stored version to the current one, in order', () => {
    expect(upcast(stored('Renamed', 1, { name: 'Ada Lovelace' }), histories)).toEqual(
      stored('Renamed', 3, { first: 'Ada', last: 'Lovelace', title: null }),
    );
    expect(upcast(stored('Renamed', 2, { first: 'Ada', last: 'L', title: 'Countess' }), histories).data).toEqual({ first: 'Ada', last: 'L', title: 'Countess' });
  });

  it('leaves current events, unknown types and versions newer than the code as they are', () => {
    for (const event of [stored('Renamed', 3, { first: 'a' }), stored('Other', 1, { x: 1 }), stored('Renamed', 4, { y: 2 })]) {
      expect(upcast(event, histories)).toBe(event);
    }
  });

  it('fails loudly when a step is missing (a registry defect, never a silent half-upgrade)', () => {
    expect(() => upcast(stored('Broken', 1, {}), histories)).toThrow('No upcaster for Broken from schema version 1 to 2');
  });

  it('the shipped registry: HoldSettled v1 gains what every reader assumed, and is written as v2', () => {
    expect(currentSchemaVersion('HoldSettled')).toBe(2);
    expect(currentSchemaVersion('JobQueued')).toBe(1);
    const old = stored('HoldSettled', 1, { jobId: 'j', runSeconds: 5, trialGpuSecondsCharged: 5, trialGpuSecondsReleased: 0, settledAt: '2025-01-01T00:00:00.000Z' });
    expect(upcast(old).data).toMatchObject({ gpuType: 'a100', periodStart: '2025-01-01T00:00:00.000Z', periodEnd: '2025-01-01T00:00:00.000Z' });
    // A v1 item written by newer v1 code already had the fields: they are kept.
    const full = stored('HoldSettled', 1, { ...old.data, gpuType: 'a100', periodStart: '2024-12-31T23:59:55.000Z', periodEnd: '2025-01-01T00:00:00.000Z' });
    expect(upcast(full).data).toEqual(full.data);
  });
});

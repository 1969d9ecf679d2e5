import { describe, expect, it } from 'vitest';
import { planCapacity, vcpusOf } from '../../../domain/capacity';

const at = (second: number) => new Date(Date.UTC(2026, 10, 25, 12, 0, second)).toISOString();
const pool = (minvCpus: number, desiredvCpus = minvCpus, maxvCpus = 768) => ({ minvCpus, desiredvCpus, maxvCpus });

describe('vcpusOf', () => {
  it.each([
    [1, 12],
    [8, 96],
    [16, 192],
    [64, 768],
  ])('%i GPUs take %i vCPUs', (gpus, vcpus) => expect(vcpusOf(gpus)).toBe(vcpus));
});

describe('planCapacity', () => {
  it('raises minimum and desired to whole nodes for a burst from zero', () =>
    expect(planCapacity(pool(0), vcpusOf(1) + vcpusOf(8) + vcpusOf(16), null, at(0), 900)).toEqual({ minvCpus: 384, desiredvCpus: 384, neededAt: at(0) }));
  it('stays within the pool maximum (the region limit)', () =>
    expect(planCapacity(pool(0, 0, 192), vcpusOf(64), null, at(0), 900)).toMatchObject({ minvCpus: 192, desiredvCpus: 192 }));
  it('changes nothing when demand fits what is there, so a repeated tick sends nothing', () =>
    expect(planCapacity(pool(96, 192), 96, at(0), at(5), 900)).toEqual({ minvCpus: null, desiredvCpus: null, neededAt: at(5) }));
  it('keeps idle nodes for the idle period, then lets them go', () => {
    expect(planCapacity(pool(192), 0, at(0), at(899), 900)).toEqual({ minvCpus: null, desiredvCpus: null, neededAt: at(0) });
    expect(planCapacity(pool(192), 0, at(0), at(900), 900)).toEqual({ minvCpus: 0, desiredvCpus: null, neededAt: at(0) });
  });
  it('shrinks to a smaller demand only after the larger one has been gone for the idle period', () => {
    expect(planCapacity(pool(384), 96, at(0), at(100), 300)).toMatchObject({ minvCpus: null });
    expect(planCapacity(pool(384), 96, at(0), at(300), 300)).toMatchObject({ minvCpus: 96, desiredvCpus: null });
  });
  it('never asks Batch to lower the desired count (it refuses)', () =>
    expect(planCapacity(pool(0, 384), 0, null, at(0), 0).desiredvCpus).toBeNull());
});

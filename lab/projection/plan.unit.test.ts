import { describe, expect, it } from 'vitest';
import { UsageError } from '../../pipeline/errors.js';
import { batchSettings, projectionPlan } from './plan.js';

const options: Record<string, string> = {
  events: '20000',
  'batch-sizes': '1000, 100',
  'batch-times': '250,50',
  rates: '100,1000',
  'load-seconds': '4',
  'log-sizes': '20000,5000',
  partitions: '12',
};
const reader = (o: Record<string, string>) => (name: string) => o[name] ?? '';

describe('projectionPlan', () => {
  it('reads the lists sorted and without duplicates', () => {
    const plan = projectionPlan(reader({ ...options, rates: '1000,100,1000' }));
    expect(plan.batchSizes).toEqual([100, 1000]);
    expect(plan.batchTimesMs).toEqual([50, 250]);
    expect(plan.rates).toEqual([100, 1000]);
    expect(plan.logSizes).toEqual([5000, 20000]);
    expect(plan.loadSeconds).toBe(4);
  });

  it('names the option of a bad value', () => {
    expect(() => projectionPlan(reader({ ...options, 'batch-sizes': '100,x' }))).toThrow(UsageError);
    expect(() => projectionPlan(reader({ ...options, 'batch-sizes': '100,x' }))).toThrow(/--batch-sizes/);
    expect(() => projectionPlan(reader({ ...options, 'log-sizes': '' }))).toThrow(/--log-sizes/);
    expect(() => projectionPlan(reader({ ...options, events: '1.5' }))).toThrow(/--events/);
    expect(() => projectionPlan(reader({ ...options, rates: '0' }))).toThrow(/--rates/);
  });

  it('takes fractional rates and seconds', () => {
    expect(projectionPlan(reader({ ...options, rates: '0.5', 'load-seconds': '2.5' }))).toMatchObject({
      rates: [0.5],
      loadSeconds: 2.5,
    });
  });
});

describe('batchSettings', () => {
  it('runs every size at the default time, then the other times at the largest size', () => {
    expect(batchSettings({ batchSizes: [100, 1000, 10000], batchTimesMs: [50, 250, 1000] }, 250)).toEqual([
      { rows: 100, ms: 250 },
      { rows: 1000, ms: 250 },
      { rows: 10000, ms: 250 },
      { rows: 10000, ms: 50 },
      { rows: 10000, ms: 1000 },
    ]);
  });

  it('measures no setting twice', () => {
    expect(batchSettings({ batchSizes: [100], batchTimesMs: [250] }, 250)).toEqual([{ rows: 100, ms: 250 }]);
  });
});

import { describe, expect, it } from 'vitest';
import { advances, committableOffset } from './commitPlan.js';

describe('committableOffset: what a batch lets the subscription commit', () => {
  const offsets = [10, 11, 13, 14]; // 12 is a transaction marker or an aborted record: never delivered

  it('everything finished: past the batch, markers after the last record included', () => {
    expect(committableOffset(offsets, [true, true, true, true], 16)).toBe(17);
  });

  it('only the run of finished records from the first one; a gap holds back everything after it', () => {
    expect(committableOffset(offsets, [true, true, false, true], 16)).toBe(12);
    expect(committableOffset(offsets, [true, false, true, true], 16)).toBe(11);
  });

  it('nothing finished, or the first not finished: nothing to commit', () => {
    expect(committableOffset(offsets, [false, false, false, false], 16)).toBeUndefined();
    expect(committableOffset(offsets, [false, true, true, true], 16)).toBeUndefined();
  });

  it('an empty batch (only markers) moves past itself', () => {
    expect(committableOffset([], [], 16)).toBe(17);
  });
});

describe('advances: commits only move forward', () => {
  it('commits the first time, then only a higher offset', () => {
    expect(advances(undefined, 0)).toBe(true);
    expect(advances(10, 11)).toBe(true);
    expect(advances(10, 10)).toBe(false);
    expect(advances(10, 4)).toBe(false);
  });
});

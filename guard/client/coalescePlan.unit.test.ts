import { describe, expect, it } from 'vitest';
import { coalescePolicy, fullAfterAdding, lingerWhile, sendBeforeAdding } from './coalescePlan.js';

describe('when a coalescer sends', () => {
  const policy = coalescePolicy({ lingerMs: 1, maxAppends: 3, maxBytes: 2_000 });

  it('nothing pending: never sends before adding, whatever the size', () => {
    expect(sendBeforeAdding({ count: 0, bytes: 0 }, 5_000, policy)).toBe(false);
  });

  it('sends what is pending first when the next append would pass maxBytes', () => {
    expect(sendBeforeAdding({ count: 1, bytes: 1_600 }, 400, policy)).toBe(false);
    expect(sendBeforeAdding({ count: 1, bytes: 1_600 }, 401, policy)).toBe(true);
  });

  it('a request is full at maxAppends or at maxBytes', () => {
    expect(fullAfterAdding({ count: 2, bytes: 10 }, policy)).toBe(false);
    expect(fullAfterAdding({ count: 3, bytes: 10 }, policy)).toBe(true);
    expect(fullAfterAdding({ count: 1, bytes: 2_000 }, policy)).toBe(true);
  });

  it('defaults: 1 ms linger, 256 appends, 900000 bytes; undefined options keep them', () => {
    expect(coalescePolicy({ lingerMs: undefined })).toEqual({ lingerMs: 1, maxAppends: 256, maxBytes: 900_000 });
  });

  it('a bad option fails up front, naming it', () => {
    expect(() => coalescePolicy({ maxAppends: 0 })).toThrow(/coalesce.maxAppends/);
    expect(() => coalescePolicy({ maxAppends: 1_001 })).toThrow(/coalesce.maxAppends/);
    expect(() => coalescePolicy({ lingerMs: -1 })).toThrow(/coalesce.lingerMs/);
    expect(() => coalescePolicy({ maxBytes: 10 })).toThrow(/coalesce.maxBytes/);
  });

  it('lingers only while a request is in flight', () => {
    expect(lingerWhile(0)).toBe(false);
    expect(lingerWhile(1)).toBe(true);
  });
});

import { describe, expect, it } from 'vitest';
import { measureStall } from './stall.js';

describe('measureStall', () => {
  it('finds the longest gap between successes, counting from the start and to the end of the window', () => {
    expect(measureStall([1_050, 1_100, 2_600, 2_700], 1_000, 3_000)).toEqual({ longestGapMs: 1_500, emptyMs: 1_600 });
    expect(measureStall([], 0, 1_000)).toEqual({ longestGapMs: 1_000, emptyMs: 1_000 });
    // the first success comes late: the stall starts with the window
    expect(measureStall([900, 950], 0, 1_000).longestGapMs).toBe(900);
  });

  it('ignores successes outside the window and counts empty buckets at the resolution given', () => {
    expect(measureStall([-5, 10, 20, 5_000], 0, 1_000, 250)).toEqual({ longestGapMs: 980, emptyMs: 750 });
  });
});

import { describe, expect, it } from 'vitest';
import { startOffset } from './startOffsets.js';

const p = (committed: number | undefined, low = 10, high = 50) => ({ topic: 't', partition: 1, committed, low, high });

describe('startOffset: where a just-assigned partition starts', () => {
  it('resumes at the committed offset whatever `from` says', () => {
    expect(startOffset('start', p(30))).toBeUndefined();
    expect(startOffset('end', p(30))).toBeUndefined();
    expect(startOffset([{ topic: 't', partition: 1, offset: 45 }], p(30))).toBeUndefined();
    expect(startOffset('end', p(0))).toBeUndefined(); // 0 is a commit too
  });

  it("without a commit: 'start' leaves the consumer at the first offset, 'end' starts at the end", () => {
    expect(startOffset('start', p(undefined))).toBeUndefined();
    expect(startOffset('end', p(undefined))).toBe(50);
    expect(startOffset('end', p(undefined, 0, 0))).toBe(0);
  });

  it('positions: the listed offset, inclusive; unlisted partitions from the start; gone offsets at the first kept', () => {
    const from = [
      { topic: 't', partition: 1, offset: 42 },
      { topic: 't', partition: 2, offset: 7 },
      { topic: 'u', partition: 1, offset: 9 },
    ];
    expect(startOffset(from, p(undefined))).toBe(42);
    expect(startOffset(from, { ...p(undefined), partition: 3 })).toBeUndefined();
    expect(startOffset(from, { ...p(undefined), partition: 2 })).toBe(10); // 7 is below the first offset kept
    expect(startOffset([{ topic: 't', partition: 1, offset: 90 }], p(undefined))).toBe(90); // beyond the end: waits
  });
});

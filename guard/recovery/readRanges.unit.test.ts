import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rebuildRange, resolveRange, watermarkAfter } from './readRanges.js';

describe('rebuildRange', () => {
  it('without a generation record reads the whole partition', () => {
    expect(rebuildRange('t', 3, 120)).toEqual({ topic: 't', partition: 3, from: 0, until: 120 });
  });

  it('reads from just above the watermark when nothing is pending', () => {
    expect(rebuildRange('t', 0, 120, { watermark: '99', pending: [] })).toMatchObject({ from: 100, until: 120 });
  });

  it('reads from just above the lowest open reservation when one was made below the watermark', () => {
    const pending = [{ watermark: 80 }, { watermark: 95 }];
    expect(rebuildRange('t', 0, 120, { watermark: '99', pending })).toMatchObject({ from: 81 });
  });

  it('a partition never written (no watermark) reads from 0; a partition the broker did not list ends at 0', () => {
    expect(rebuildRange('t', 0, undefined, { watermark: null, pending: [] })).toEqual({
      topic: 't',
      partition: 0,
      from: 0,
      until: 0,
    });
    expect(rebuildRange('t', 0, 10, { watermark: null, pending: [{ watermark: -1 }] }).from).toBe(0);
  });

  it('starts at or below every mark it must cover, and never below 0', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1, max: 1_000 }), fc.array(fc.integer({ min: -1, max: 1_000 })), (wm, marks) => {
        const { from } = rebuildRange('t', 0, 2_000, {
          watermark: String(wm),
          pending: marks.map((watermark) => ({ watermark })),
        });
        expect(from).toBeGreaterThanOrEqual(0);
        for (const mark of [wm, ...marks]) expect(from).toBeLessThanOrEqual(mark + 1);
        expect([wm, ...marks].some((mark) => from === Math.max(0, mark + 1))).toBe(true);
      }),
    );
  });
});

describe('resolveRange', () => {
  it("reads from just above the reservation's watermark to the partition's end", () => {
    expect(resolveRange('t', 2, { watermark: 41 }, 60)).toEqual({ topic: 't', partition: 2, from: 42, until: 60 });
    expect(resolveRange('t', 2, { watermark: -1 }, undefined)).toEqual({ topic: 't', partition: 2, from: 0, until: 0 });
  });
});

describe('watermarkAfter', () => {
  it('is the last offset of the range; an empty partition earns none', () => {
    expect(watermarkAfter({ topic: 't', partition: 0, from: 5, until: 10 })).toBe(9);
    expect(watermarkAfter({ topic: 't', partition: 0, from: 0, until: 1 })).toBe(0);
    expect(watermarkAfter({ topic: 't', partition: 0, from: 0, until: 0 })).toBeUndefined();
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clickhouseTime } from './eventsProjection.js';

const viaDate = (ms: number) => new Date(ms).toISOString().slice(0, 23).replace('T', ' ');

describe('clickhouseTime', () => {
  it('is the text of toISOString without the T and the Z, at minute and second boundaries too', () => {
    for (const ms of [0, 1, 999, 1000, 59_999, 60_000, 60_001, -1, -60_000, -59_999, 1_764_144_000_000.9]) {
      expect(clickhouseTime(ms)).toBe(viaDate(ms));
    }
    expect(clickhouseTime(1_764_144_061_005)).toBe('2025-11-26 08:01:01.005');
  });

  it('agrees with toISOString for any time from year 1 to 9999, in any order of calls', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: -62_135_596_800_000, max: 253_402_300_799_999 }), { minLength: 1 }),
        (list) => {
          for (const ms of list) expect(clickhouseTime(ms)).toBe(viaDate(ms));
        },
      ),
    );
  });

  it('throws on what is not a time, as the Date it replaces did', () => {
    expect(() => clickhouseTime(Number.NaN)).toThrow(RangeError);
    expect(() => clickhouseTime(9e15)).toThrow(RangeError);
  });
});

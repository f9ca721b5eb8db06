import { describe, expect, it } from 'vitest';
import { compactRuns, decodeIndex, encodeIndex, planProbes, runsByStream, spanProbes } from './positionIndex.js';

describe('the position index format', () => {
  it('round-trips entries, small and large (offsets up to 2^48)', () => {
    const entries = [
      { version: 0, offset: 0 },
      { version: 1, offset: 5 },
      { version: 7, offset: 130 },
      { version: 8, offset: 2 ** 40 },
      { version: 1_000_000, offset: 2 ** 47 + 3 },
    ];
    const value = encodeIndex(entries);
    expect(decodeIndex(value)).toEqual(entries);
    // The header holds the last entry, where the script appends from.
    expect(value.readUIntBE(0, 6)).toBe(1_000_000);
    expect(value.readUIntBE(6, 6)).toBe(2 ** 47 + 3);
  });

  it('costs a few bytes per entry: one event appended among others', () => {
    const entries = Array.from({ length: 100 }, (_, v) => ({ version: v, offset: v * 10_000 }));
    const value = encodeIndex(entries);
    expect((value.length - 12) / entries.length).toBeLessThanOrEqual(4);
  });

  it('reads a missing, short or torn value as the entries before the damage', () => {
    expect(decodeIndex(null)).toEqual([]);
    expect(decodeIndex(Buffer.alloc(5))).toEqual([]);
    const value = encodeIndex([
      { version: 0, offset: 3 },
      { version: 4, offset: 300 },
    ]);
    expect(decodeIndex(value.subarray(0, value.length - 1))).toEqual([{ version: 0, offset: 3 }]);
  });
});

describe('compactRuns', () => {
  it('keeps the start of each run of consecutive versions at consecutive offsets', () => {
    const positions = [0, 1, 2, 5, 6, 9].map((offset, i) => ({ version: i, offset }));
    expect(compactRuns(positions)).toEqual([
      { version: 0, offset: 0 },
      { version: 3, offset: 5 },
      { version: 5, offset: 9 },
    ]);
  });

  it('drops positions that go backwards (never out of order)', () => {
    expect(
      compactRuns([
        { version: 3, offset: 30 },
        { version: 2, offset: 40 },
        { version: 4, offset: 20 },
        { version: 5, offset: 50 },
      ]),
    ).toEqual([
      { version: 3, offset: 30 },
      { version: 5, offset: 50 },
    ]);
  });
});

describe('runsByStream', () => {
  it("splits a group commit's events by stream, one entry per run, skipping unknown offsets", () => {
    const runs = runsByStream([
      { stream: 'a-1', version: 4, offset: 100 },
      { stream: 'a-1', version: 5, offset: 101 },
      { stream: 'a-2', version: 0, offset: 102 },
      { stream: 'a-1', version: 6, offset: 103 },
      { stream: 'a-3', version: 0, offset: Number.NaN },
    ]);
    expect([...runs.entries()]).toEqual([
      [
        'a-1',
        [
          { version: 4, offset: 100 },
          { version: 6, offset: 103 },
        ],
      ],
      ['a-2', [{ version: 0, offset: 102 }]],
    ]);
  });
});

describe('planProbes: which offsets a read fetches', () => {
  const entries = [
    { version: 0, offset: 10 },
    { version: 3, offset: 50 },
    { version: 4, offset: 90 },
  ];

  it('one probe per run the range touches, each at the offset of its first version there', () => {
    expect(planProbes(entries, 0, 6)).toEqual([
      { from: 10, first: 0, last: 2 },
      { from: 50, first: 3, last: 3 },
      { from: 90, first: 4, last: 6 },
    ]);
  });

  it('starts inside a run: version 1 of the run at 10 is at 11 (or later, if the index is behind)', () => {
    expect(planProbes(entries, 1, 1)).toEqual([{ from: 11, first: 1, last: 1 }]);
    expect(planProbes(entries, 5, 8)).toEqual([{ from: 91, first: 5, last: 8 }]);
  });

  it('never starts before the lower bound a caller knows (a cached state)', () => {
    expect(planProbes(entries, 4, 6, 95)).toEqual([{ from: 95, first: 4, last: 6 }]);
  });

  it('without an index: one probe from the lower bound, a scan', () => {
    expect(planProbes([], 2, 9, 7)).toEqual([{ from: 7, first: 2, last: 9 }]);
  });

  it('with an index that starts after the range begins: a scan up to the first entry, then the index', () => {
    expect(planProbes([{ version: 5, offset: 500 }], 2, 6)).toEqual([
      { from: 0, first: 2, last: 4 },
      { from: 500, first: 5, last: 6 },
    ]);
  });

  it('an empty range fetches nothing', () => {
    expect(planProbes(entries, 4, 3)).toEqual([]);
  });
});

describe('spanProbes: probes close together are read as one', () => {
  it('joins probes less than maxGap offsets apart, keeping their versions contiguous', () => {
    const probes = [
      { from: 10, first: 0, last: 0 },
      { from: 300, first: 1, last: 2 },
      { from: 5_000, first: 3, last: 3 },
      { from: 5_100, first: 4, last: 9 },
    ];
    expect(spanProbes(probes, 1_000)).toEqual([
      { from: 10, first: 0, last: 2, to: 300 },
      { from: 5_000, first: 3, last: 9, to: 5_100 },
    ]);
    expect(spanProbes(probes, 50)).toEqual(probes.map((p) => ({ ...p, to: p.from })));
  });
});

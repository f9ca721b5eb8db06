import { describe, expect, it } from 'vitest';
import { contentionReading, contentionRow, flattensAt, guardsSentence, tailCause } from './contentionFigures.js';
import type { HotStreamTally } from './hotStreamWriters.js';

const tally = (successes: number, conflicts: number, latenciesMs: number[], elapsedMs = 2_000): HotStreamTally => ({
  successes,
  conflicts,
  late: 0,
  failures: 0,
  abandoned: 0,
  attempts: successes + conflicts,
  latenciesMs,
  elapsedMs,
});

describe('contention figures', () => {
  it('turns a tally into rates, the conflict ratio and latency percentiles', () => {
    const row = contentionRow(2, 8, tally(100, 300, [1, 2, 3, 4, 100]));
    expect(row).toMatchObject({ guards: 2, writers: 8, successesPerSecond: 50, conflictsPerSecond: 150 });
    expect(row.conflictRatio).toBeCloseTo(0.75);
    expect(row.retriesPerSuccess).toBe(3);
    expect(row.p50Ms).toBe(3);
    expect(row.p99Ms).toBe(100);
  });

  it('has no ratio without tries', () => {
    expect(contentionRow(1, 1, tally(0, 0, [])).conflictRatio).toBeNaN();
  });

  it('finds where throughput reaches 90% of its peak', () => {
    const rows = [
      contentionRow(1, 1, tally(100, 0, [5])),
      contentionRow(1, 8, tally(380, 10, [9])),
      contentionRow(1, 64, tally(400, 900, [90])),
    ];
    const f = flattensAt(rows);
    expect(f?.peak.writers).toBe(64);
    expect(f?.knee.writers).toBe(8);
  });

  it('says what the figures say, numbers included', () => {
    const rows = [
      contentionRow(1, 1, tally(200, 0, [4, 5, 6])),
      contentionRow(1, 8, tally(300, 600, [10, 20, 30])),
      contentionRow(2, 1, tally(180, 0, [5])),
      contentionRow(2, 8, tally(280, 700, [15, 40])),
    ];
    const text = contentionReading(rows, 0);
    expect(text).toContain('150 successful appends/s with 8 writers');
    expect(text).toContain('67% of compare-and-swap tries were refused at 8 writers');
    expect(text).toContain('0.93 times the peak of 1');
    expect(text).toContain('0 violations');
    expect(contentionReading(rows, 2)).toContain('2 violation(s)');
  });

  it('tells a gain from more guards apart from a loss and from no change', () => {
    const one = contentionRow(1, 8, tally(200, 0, [1]));
    expect(guardsSentence(one, contentionRow(2, 8, tally(300, 0, [1])))).toContain('1.50 times');
    expect(guardsSentence(one, contentionRow(2, 8, tally(300, 0, [1])))).toContain('bounded');
    expect(guardsSentence(one, contentionRow(2, 8, tally(100, 0, [1])))).toContain('no capacity');
    expect(guardsSentence(one, contentionRow(2, 8, tally(205, 0, [1])))).toContain('about the same');
    expect(guardsSentence(one, contentionRow(2, 1, tally(400, 0, [1])))).toContain("machine's noise");
  });
});

describe('contention reading, throughput', () => {
  it('says so when throughput falls with more writers', () => {
    const rows = [contentionRow(1, 1, tally(200, 0, [5])), contentionRow(1, 64, tally(20, 500, [900]))];
    expect(contentionReading(rows, 0)).toContain(
      'peaked at 100 successful appends/s with 1 writer and fell as writers were added, to 10/s with 64 writers',
    );
  });

  it('says where it flattens when it rises to a plateau', () => {
    const rows = [1, 4, 16].map((w, i) => contentionRow(1, w, tally([100, 190, 200][i] as number, 0, [5])));
    expect(contentionReading(rows, 0)).toContain('within 10% of that from 4 writers on');
  });
});

describe('contention reading, starvation', () => {
  it('names writers that never got through', () => {
    const starved = { ...tally(10, 500, [3000]), abandoned: 40 };
    const text = contentionReading([contentionRow(1, 1, tally(100, 0, [5])), contentionRow(1, 64, starved)], 0);
    expect(text).toContain('40 of them had still not written');
  });
});

describe('contention reading, the tail', () => {
  it('names losers losing again, not a queue, when the p99 is far above the p50', () => {
    const starving = contentionRow(1, 16, tally(100, 500, [...Array.from({ length: 98 }, () => 5), 5_000, 5_000]));
    expect(tailCause(starving)).toMatch(/lost try after try/);
    const queued = contentionRow(1, 4, tally(100, 100, [...Array.from({ length: 98 }, () => 5), 20, 20]));
    expect(tailCause(queued)).toMatch(/waits for the others' turns/);
  });
});

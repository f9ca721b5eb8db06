import { describe, expect, it } from 'vitest';
import { quantileBetween } from './guardMetrics.js';

const cumulative = (counts: [number, number][]) => new Map(counts);
const INF = Number.POSITIVE_INFINITY;

describe('quantileBetween', () => {
  it('interpolates the quantile inside its bucket, from what was observed between the two scrapes', () => {
    const before = cumulative([
      [0.01, 10],
      [0.05, 10],
      [0.1, 10],
      [INF, 10],
    ]);
    // 100 new observations: 50 under 10 ms, 40 in 10–50 ms, 10 in 50–100 ms.
    const after = cumulative([
      [0.01, 60],
      [0.05, 100],
      [0.1, 110],
      [INF, 110],
    ]);
    expect(quantileBetween(before, after, 0.5)).toBeCloseTo(10);
    expect(quantileBetween(before, after, 0.9)).toBeCloseTo(50);
    expect(quantileBetween(before, after, 0.99)).toBeCloseTo(95);
  });

  it('is NaN with nothing observed, and the last finite bound when the quantile is past it', () => {
    const same = cumulative([
      [0.1, 5],
      [INF, 5],
    ]);
    expect(quantileBetween(same, same, 0.99)).toBeNaN();
    const after = cumulative([
      [0.1, 5],
      [INF, 105],
    ]);
    expect(quantileBetween(same, after, 0.99)).toBe(100);
  });
});

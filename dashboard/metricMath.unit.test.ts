import { describe, expect, it } from 'vitest';
import { bucketsBetween, growth, histogram, mean, quantile, ratePerSecond, total, totalsBy } from './metricMath.js';
import { parsePrometheusText } from './prometheusText.js';

const scrape = (appends: number, buckets: [string, number][]) =>
  parsePrometheusText(
    [
      `a_total{outcome="written"} ${appends}`,
      'a_total{outcome="conflict"} 2',
      ...buckets.map(([le, n]) => `h_bucket{le="${le}"} ${n}`),
      `h_sum ${buckets.length}`,
      `h_count ${buckets[buckets.length - 1]?.[1] ?? 0}`,
    ].join('\n'),
  );

describe('metric math', () => {
  it('sums samples, filtered by label values, and per label', () => {
    const samples = [...scrape(10, []), ...scrape(5, [])];
    expect(total(samples, 'a_total')).toBe(19);
    expect(total(samples, 'a_total', { outcome: 'written' })).toBe(15);
    expect(total(samples, 'a_total', { outcome: ['written', 'conflict'] })).toBe(19);
    expect(total(samples, 'missing')).toBe(0);
    expect(totalsBy(samples, 'a_total', 'outcome')).toEqual({ written: 15, conflict: 4 });
  });

  it('rates counters, a restart counting from 0', () => {
    expect(growth(10, 25)).toBe(15);
    expect(growth(100, 7)).toBe(7);
    expect(ratePerSecond(10, 30, 2)).toBe(10);
    expect(ratePerSecond(10, 30, 0)).toBe(0);
  });

  it('sums histograms over label sets, bounds sorted, +Inf last', () => {
    const h = histogram(
      parsePrometheusText('h_bucket{le="+Inf",x="a"} 3\nh_bucket{le="1",x="a"} 1\nh_bucket{le="1",x="b"} 2\nh_count 5'),
      'h',
    );
    expect(h.bounds).toEqual([1, Number.POSITIVE_INFINITY]);
    expect(h.counts).toEqual([3, 3]);
    expect(h.count).toBe(5);
  });

  it('takes quantiles of the observations between two scrapes, interpolated within a bucket', () => {
    const before = histogram(
      scrape(0, [
        ['0.01', 10],
        ['0.1', 10],
        ['1', 10],
        ['+Inf', 10],
      ]),
      'h',
    );
    const after = histogram(
      scrape(0, [
        ['0.01', 10],
        ['0.1', 60],
        ['1', 110],
        ['+Inf', 110],
      ]),
      'h',
    );
    const between = bucketsBetween(before, after);
    expect(between.counts).toEqual([0, 50, 100, 100]);
    expect(between.count).toBe(100);
    expect(quantile(between, 0.5)).toBeCloseTo(0.1);
    expect(quantile(between, 0.25)).toBeCloseTo(0.055);
    expect(quantile(between, 0.99)).toBeCloseTo(0.982);
  });

  it('has no quantile without observations, and gives the last finite bound for the +Inf bucket', () => {
    const empty = histogram(
      scrape(0, [
        ['1', 0],
        ['+Inf', 0],
      ]),
      'h',
    );
    expect(quantile(empty, 0.5)).toBeUndefined();
    expect(mean(empty)).toBeUndefined();
    const tail = histogram(
      scrape(0, [
        ['1', 1],
        ['+Inf', 10],
      ]),
      'h',
    );
    expect(quantile(tail, 0.99)).toBe(1);
  });

  it('treats a histogram that shrank as restarted', () => {
    const before = histogram(
      scrape(0, [
        ['1', 50],
        ['+Inf', 50],
      ]),
      'h',
    );
    const after = histogram(
      scrape(0, [
        ['1', 4],
        ['+Inf', 4],
      ]),
      'h',
    );
    expect(bucketsBetween(before, after).counts).toEqual([4, 4]);
  });
});

import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { MetricsTextError, parsePrometheusText } from './prometheusText.js';

describe('parsePrometheusText', () => {
  it('reads names, labels and values, skipping comments and timestamps', () => {
    const samples = parsePrometheusText(
      [
        '# HELP x_total things',
        '# TYPE x_total counter',
        'x_total{outcome="written"} 12',
        'x_total{outcome="conflict",route="a,b"} 3 1700000000000',
        'up 1',
        'h_bucket{le="+Inf"} 7',
        '',
      ].join('\n'),
    );
    expect(samples).toEqual([
      { name: 'x_total', labels: { outcome: 'written' }, value: 12 },
      { name: 'x_total', labels: { outcome: 'conflict', route: 'a,b' }, value: 3 },
      { name: 'up', labels: {}, value: 1 },
      { name: 'h_bucket', labels: { le: '+Inf' }, value: 7 },
    ]);
  });

  it('unescapes quoted label values, braces and quotes included', () => {
    const [sample] = parsePrometheusText('m{detail="a \\"b\\" {c}\\nd\\\\"} 1.5e3');
    expect(sample).toEqual({ name: 'm', labels: { detail: 'a "b" {c}\nd\\' }, value: 1500 });
  });

  it('reads special values', () => {
    const values = parsePrometheusText('a +Inf\nb -Inf\nc NaN').map((s) => s.value);
    expect(values[0]).toBe(Number.POSITIVE_INFINITY);
    expect(values[1]).toBe(Number.NEGATIVE_INFINITY);
    expect(values[2]).toBeNaN();
  });

  it('says which line is malformed', () => {
    expect(() => parsePrometheusText('ok 1\nbad{x="1" 2')).toThrow(MetricsTextError);
    expect(() => parsePrometheusText('ok 1\nbad{x="1" 2')).toThrow(/line 2: unclosed label set/);
    expect(() => parsePrometheusText('n abc')).toThrow(/line 1: not a number/);
  });

  it('reads what prom-client serves', async () => {
    const registry = new Registry();
    const counter = new Counter({ name: 'c_total', help: 'h', labelNames: ['outcome'], registers: [registry] });
    const histogram = new Histogram({ name: 'h_seconds', help: 'h', buckets: [0.1, 1], registers: [registry] });
    counter.inc({ outcome: 'written' }, 5);
    histogram.observe(0.05);
    histogram.observe(0.5);
    const samples = parsePrometheusText(await registry.metrics());
    expect(samples).toContainEqual({ name: 'c_total', labels: { outcome: 'written' }, value: 5 });
    expect(samples).toContainEqual({ name: 'h_seconds_bucket', labels: { le: '0.1' }, value: 1 });
    expect(samples).toContainEqual({ name: 'h_seconds_bucket', labels: { le: '+Inf' }, value: 2 });
    expect(samples).toContainEqual({ name: 'h_seconds_count', labels: {}, value: 2 });
  });
});

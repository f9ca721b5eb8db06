import { describe, expect, it } from 'vitest';
import { renderChartSvg, withTitle } from './chartSvg.js';

describe('renderChartSvg', () => {
  it('draws a chart in Node as an SVG named by its title, with a path per series', async () => {
    const svg = await renderChartSvg({
      name: 'throughput',
      title: 'Appends/s <by> writers',
      kind: 'line',
      x: { label: 'writers', log: true },
      y: { label: 'appends/s' },
      series: [
        {
          name: 'guard',
          points: [
            [1, 200],
            [4, 700],
            [16, 1_700],
          ],
        },
        {
          name: 'Postgres',
          points: [
            [1, 1_700],
            [4, 2_900],
            [16, null],
          ],
        },
      ],
    });
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('role="img"><title>Appends/s &lt;by&gt; writers</title>');
    expect(svg).toContain('guard');
    expect(svg).toContain('Postgres');
    expect((svg.match(/<path /g) ?? []).length).toBeGreaterThan(4);
  });

  it('adds a title to the opening tag only', () => {
    expect(withTitle('<svg width="1"><g><svg x="2"></svg></g></svg>', 'a & b')).toBe(
      '<svg width="1" role="img"><title>a &amp; b</title><g><svg x="2"></svg></g></svg>',
    );
  });
});

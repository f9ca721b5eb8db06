import { describe, expect, it } from 'vitest';
import { indexHtml, reportHtml } from './reportHtml.js';

describe('reportHtml', () => {
  it('holds the reading, each chart inline, each table with its CSV link, the settings and the machine', () => {
    const page = reportHtml({
      title: 'Write <cost>',
      experiment: 'write-cost',
      result: {
        settings: { writers: '1,2' },
        tables: [{ name: 'points', title: 'Points', columns: ['path', 'appends/s'], rows: [['raw & fast', 1234.5]] }],
        charts: [{ name: 'throughput', title: 't', kind: 'line', x: { label: 'x' }, y: { label: 'y' }, series: [] }],
        reading: 'Postgres "wins" at 1 writer',
      },
      svgs: new Map([['throughput', '<svg id="t"></svg>']]),
      about: { node: 'v20' },
      durationSeconds: 3.5,
    });
    expect(page).toContain('<title>Write &lt;cost&gt;</title>');
    expect(page).toContain('<p class="reading">Postgres &quot;wins&quot; at 1 writer</p>');
    expect(page).toContain('<figure class="chart" data-chart="throughput"><svg id="t"></svg></figure>');
    expect(page).toContain('<a href="points.csv">CSV</a>');
    expect(page).toContain('<td>raw &amp; fast</td><td>1,234.5</td>');
    expect(page).toContain('<th>duration (s)</th><td>3.5</td>');
    expect(page).toContain('<th>node</th><td>v20</td>');
  });
});

describe('indexHtml', () => {
  it('links each report, shows its charts small and marks a failed experiment', () => {
    const page = indexHtml('run <1>', [
      { name: 'cold-read', title: 'Cold read', ok: true, reading: 'fast', charts: ['load-time', 'events-per-second'] },
      { name: 'recovery', title: 'Recovery', ok: false, reading: 'Error: Redis gone', charts: [] },
    ]);
    expect(page).toContain('<title>run &lt;1&gt;</title>');
    expect(page).toContain('<img src="cold-read/load-time.svg" alt="load-time">');
    expect(page).toContain('<img src="cold-read/events-per-second.svg" alt="events-per-second">');
    expect(page).toContain(
      '<a href="recovery/report.html">Recovery</a> <strong>(failed)</strong><br>Error: Redis gone</li>',
    );
  });
});

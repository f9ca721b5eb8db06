import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../pipeline/config/config.js';
import { expectReportRendersInChromium } from '../../test/support/labReportInBrowser.js';
import { runLab } from '../core/runLab.js';
import { projection } from './projection.js';

describe('lab projection', () => {
  it('measures events/s by batch size, freshness under load and rebuild time by log size, and writes them', async () => {
    const lines: string[] = [];
    const out = mkdtempSync(join(tmpdir(), 'kes-lab-projection-'));
    const given = new Map([
      [
        'projection',
        new Map([
          ['events', '2000'],
          ['batch-sizes', '200,1000'],
          ['batch-times', '250'],
          ['rates', '50'],
          ['load-seconds', '2'],
          ['log-sizes', '500,1500'],
          ['partitions', '3'],
        ]),
      ],
    ]);
    const [outcome] = await runLab([projection], {
      quick: true,
      seed: 1,
      given,
      config: loadConfig(),
      root: process.cwd(),
      out,
      progress: (line) => lines.push(line),
    });
    expect(outcome?.error, lines.join('\n')).toBeUndefined();
    expect(outcome?.ok).toBe(true);
    const result = JSON.parse(readFileSync(join(out, 'projection', 'results.json'), 'utf8')) as {
      tables: { name: string; columns: string[]; rows: (string | number | null)[][] }[];
      charts: { name: string }[];
      reading: string;
    };
    const table = (name: string) => {
      const t = result.tables.find((x) => x.name === name);
      if (!t) throw new Error(`no table ${name}`);
      return (column: string) => t.rows.map((r) => r[t.columns.indexOf(column)]);
    };
    const batches = table('batches');
    expect(batches('batch rows')).toEqual([200, 1000]);
    for (const v of batches('events/s')) expect(v).toBeGreaterThan(0);
    for (const v of batches('events')) expect(v).toBe(2000);

    const freshness = table('freshness');
    expect(freshness('appends/s asked')).toEqual([50]);
    for (const v of freshness('events measured')) expect(v).toBeGreaterThan(0);
    for (const v of freshness('freshness p99 ms')) expect(typeof v).toBe('number');

    const rebuilds = table('rebuilds');
    expect(rebuilds('events in the log')).toEqual([500, 1500]);
    for (const v of rebuilds('rebuild s')) expect(v).toBeGreaterThan(0);

    expect(result.charts.map((c) => c.name)).toEqual(
      expect.arrayContaining(['events-per-second-by-batch-size', 'freshness-by-rate', 'rebuild-seconds-by-log-size']),
    );
    expect(result.reading).toMatch(/events\/s/);
    await expectReportRendersInChromium(join(out, 'projection'), 'projection');
  });
});

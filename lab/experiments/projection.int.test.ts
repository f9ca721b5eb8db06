import { describe, expect, it } from 'vitest';
import { expectReportRendersInChromium } from '../../test/support/labReportInBrowser.js';
import { runExperimentInTest } from '../../test/support/labRun.js';
import { projection } from './projection.js';

describe('lab projection', () => {
  it('measures events/s by batch size, freshness under load and rebuild time by log size, and writes them', async () => {
    const run = await runExperimentInTest(projection, {
      events: '2000',
      'batch-sizes': '200,1000',
      'batch-times': '250',
      rates: '50',
      'load-seconds': '2',
      'log-sizes': '500,1500',
      partitions: '3',
    });
    const batches = run.table('batches');
    expect(batches.map((b) => b['batch rows'])).toEqual([200, 1000]);
    for (const b of batches) {
      expect(b['events/s']).toBeGreaterThan(0);
      expect(b.events).toBe(2000);
    }

    const freshness = run.table('freshness');
    expect(freshness.map((f) => f['appends/s asked'])).toEqual([50]);
    for (const f of freshness) {
      expect(f['events measured']).toBeGreaterThan(0);
      expect(typeof f['freshness p99 ms']).toBe('number');
    }

    const rebuilds = run.table('rebuilds');
    expect(rebuilds.map((r) => r['events in the log'])).toEqual([500, 1500]);
    for (const r of rebuilds) expect(r['rebuild s']).toBeGreaterThan(0);

    expect(run.results.charts.map((c) => c.name)).toEqual(
      expect.arrayContaining(['events-per-second-by-batch-size', 'freshness-by-rate', 'rebuild-seconds-by-log-size']),
    );
    expect(run.results.reading).toMatch(/events\/s/);
    await expectReportRendersInChromium(run.dir, 'projection');
  });
});

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectReportRendersInChromium } from '../../test/support/labReportInBrowser.js';
import { runExperimentInTest } from '../../test/support/labRun.js';
import { writeCost } from './writeCost.js';

describe('lab write-cost', () => {
  it('measures every path at a tiny load and writes its table, charts and reading', async () => {
    const run = await runExperimentInTest(writeCost, { writers: '2', seconds: '1', warmup: '0.2', 'atomic-size': '3' });
    const points = run.table('points');
    expect(points.map((p) => p.path)).toEqual([
      'raw Kafka',
      'guarded single',
      'guarded batches',
      'atomic batches',
      'Postgres',
    ]);
    for (const p of points) {
      expect(p['appends/s'], String(p.path)).toBeGreaterThan(0);
      expect(p.writers).toBe(2);
      expect(String(p.durability)).toMatch(/fsync/);
    }
    for (const chart of ['throughput', 'p99', 'cpu']) {
      expect(run.results.charts.map((c) => c.name)).toContain(chart);
      expect(existsSync(join(run.dir, `${chart}.svg`))).toBe(true);
    }
    expect(run.results.reading).toMatch(/appends\/s/);
    await expectReportRendersInChromium(run.dir, 'write-cost');
  });
});

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectReportRendersInChromium } from '../../test/support/labReportInBrowser.js';
import { runExperimentInTest } from '../../test/support/labRun.js';
import { coldRead } from './coldRead.js';

describe('lab cold-read', () => {
  it('loads a stream three ways from two partition sizes and writes its table, charts and reading', async () => {
    const run = await runExperimentInTest(coldRead, { offsets: '200,2000', events: '10', runs: '1' });
    for (const file of ['results.json', 'report.html', 'cold-read.csv', 'load-time.svg', 'events-per-second.svg']) {
      expect(existsSync(join(run.dir, file)), file).toBe(true);
    }
    const rows = run.table('cold-read');
    expect(rows.map((r) => r['offsets P'])).toEqual([200, 2000]);
    for (const name of ['partition scan ms', 'kes indexed ms', 'postgres ms', 'kes indexed events/s']) {
      for (const row of rows) expect(row[name], name).toBeGreaterThan(0);
    }
    expect(run.results.charts[0]?.series).toHaveLength(3);
    expect(run.results.reading).toMatch(/10-event stream from 200 offsets/);
    await expectReportRendersInChromium(run.dir, 'cold-read');
  });
});

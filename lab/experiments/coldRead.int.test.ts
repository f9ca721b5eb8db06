import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../pipeline/config/config.js';
import { expectReportRendersInChromium } from '../../test/support/labReportInBrowser.js';
import { stack } from '../../test/support/stack.js';
import { runLab } from '../core/runLab.js';
import { coldRead } from './coldRead.js';

describe('lab cold-read', () => {
  it('loads a stream three ways from two partition sizes and writes its table, charts and reading', async () => {
    const out = mkdtempSync(join(tmpdir(), 'kes-lab-cold-read-'));
    try {
      const base = loadConfig();
      const postgresUrl = stack().postgresUrl;
      const [outcome] = await runLab([coldRead], {
        quick: true,
        seed: 1,
        given: new Map([
          [
            'cold-read',
            new Map([
              ['offsets', '200,2000'],
              ['events', '10'],
              ['runs', '1'],
            ]),
          ],
        ]),
        config: postgresUrl ? { ...base, POSTGRES_URL: postgresUrl } : base,
        root: process.cwd(),
        out,
        progress: () => {},
      });
      expect(outcome?.error).toBeUndefined();
      expect(outcome?.ok).toBe(true);
      const dir = join(out, 'cold-read');
      for (const file of ['results.json', 'report.html', 'cold-read.csv', 'load-time.svg', 'events-per-second.svg']) {
        expect(existsSync(join(dir, file)), file).toBe(true);
      }
      const result = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as {
        tables: { columns: string[]; rows: number[][] }[];
        charts: { series: { points: [number, number][] }[] }[];
        reading: string;
      };
      const table = result.tables[0];
      if (!table) throw new Error('no table');
      expect(table.rows.map((r) => r[0])).toEqual([200, 2000]);
      for (const name of ['partition scan ms', 'kes indexed ms', 'postgres ms', 'kes indexed events/s']) {
        for (const row of table.rows) expect(row[table.columns.indexOf(name)], name).toBeGreaterThan(0);
      }
      expect(result.charts[0]?.series).toHaveLength(3);
      expect(result.reading).toMatch(/10-event stream from 200 offsets/);
      await expectReportRendersInChromium(dir, 'cold-read');
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});

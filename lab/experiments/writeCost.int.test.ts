import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../pipeline/config/config.js';
import { expectReportRendersInChromium } from '../../test/support/labReportInBrowser.js';
import { stack } from '../../test/support/stack.js';
import { runLab } from '../core/runLab.js';
import { writeCost } from './writeCost.js';

describe('lab write-cost', () => {
  it('measures every path at a tiny load and writes its table, charts and reading', async () => {
    const out = mkdtempSync(join(tmpdir(), 'kes-lab-write-cost-'));
    const given = new Map([
      [
        'write-cost',
        new Map([
          ['writers', '2'],
          ['seconds', '1'],
          ['warmup', '0.2'],
          ['atomic-size', '3'],
        ]),
      ],
    ]);
    const base = loadConfig();
    const postgresUrl = stack().postgresUrl;
    const [outcome] = await runLab([writeCost], {
      quick: true,
      seed: 1,
      given,
      config: postgresUrl ? { ...base, POSTGRES_URL: postgresUrl } : base,
      root: process.cwd(),
      out,
      progress: () => {},
    });
    expect(outcome?.error).toBeUndefined();
    expect(outcome?.ok).toBe(true);
    const dir = join(out, 'write-cost');
    const result = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as {
      tables: { name: string; columns: string[]; rows: (string | number | null)[][] }[];
      charts: { name: string }[];
      reading: string;
    };
    const table = result.tables.find((t) => t.name === 'points');
    if (!table) throw new Error('no table points');
    const column = (name: string) => table.rows.map((r) => r[table.columns.indexOf(name)]);
    expect(column('path')).toEqual(['raw Kafka', 'guarded single', 'guarded batches', 'atomic batches', 'Postgres']);
    for (const v of column('appends/s')) expect(v).toBeGreaterThan(0);
    for (const v of column('writers')) expect(v).toBe(2);
    for (const d of column('durability')) expect(String(d)).toMatch(/fsync/);
    for (const chart of ['throughput', 'p99', 'cpu']) {
      expect(result.charts.map((c) => c.name)).toContain(chart);
      expect(existsSync(join(dir, `${chart}.svg`))).toBe(true);
    }
    expect(result.reading).toMatch(/appends\/s/);
    await expectReportRendersInChromium(dir, 'write-cost');
  });
});

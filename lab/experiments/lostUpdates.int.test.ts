import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { labConfig } from '../../test/support/labConfig.js';
import { expectReportRendersInChromium } from '../../test/support/labReportInBrowser.js';
import { runLab } from '../core/runLab.js';
import { lostUpdates } from './lostUpdates.js';

describe('lab lost-updates', () => {
  it('counts lost updates without the guard and none through it, in a report that opens in Chromium', async () => {
    const out = mkdtempSync(join(tmpdir(), 'kes-lab-'));
    const given = new Map([
      [
        'lost-updates',
        new Map([
          ['writers', '8'],
          ['streams', '1'],
          ['seconds', '2'],
        ]),
      ],
    ]);
    const [outcome] = await runLab([lostUpdates], {
      quick: true,
      seed: 7,
      given,
      config: labConfig(),
      root: process.cwd(),
      out,
      progress: () => {},
    });
    expect(outcome?.error).toBeUndefined();
    const results = JSON.parse(readFileSync(join(out, 'lost-updates', 'results.json'), 'utf8')) as {
      tables: { columns: string[]; rows: (string | number)[][] }[];
    };
    const table = results.tables[0];
    const column = (name: string) => table?.columns.indexOf(name) as number;
    const row = (path: string) => table?.rows.find((r) => r[0] === path) as (string | number)[];
    // eight writers on one stream through raw Kafka collide; through the guard they never do
    expect(row('raw Kafka')[column('lost updates')]).toBeGreaterThan(0);
    expect(row('raw Kafka')[column('duplicate versions')]).toBeGreaterThan(0);
    expect(row('guard')[column('acknowledged')]).toBeGreaterThan(0);
    expect(row('guard')[column('lost updates')]).toBe(0);
    expect(row('guard')[column('checker violations')]).toBe(0);
    expect(readFileSync(join(out, 'lost-updates', 'lost-updates.svg'), 'utf8')).toContain('<svg');
    await expectReportRendersInChromium(join(out, 'lost-updates'), 'lost-updates');
  });
});

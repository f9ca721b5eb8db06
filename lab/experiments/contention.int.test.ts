import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { addressesToEnv } from '../../devstack/types.js';
import { loadConfig } from '../../pipeline/config/config.js';
import { expectReportRendersInChromium } from '../../test/support/labReportInBrowser.js';
import { stack } from '../../test/support/stack.js';
import { runLab } from '../core/runLab.js';
import { contention } from './contention.js';

describe('lab contention', () => {
  it('measures conflicts on one hot stream through guards of its own, and the checker finds nothing', async () => {
    const out = mkdtempSync(join(tmpdir(), 'kes-lab-contention-'));
    const config = loadConfig({
      overrides: { ...addressesToEnv(stack()), KES_SCHEMAS_DIR: join(process.cwd(), 'schemas') },
    });
    const given = new Map([
      [
        'contention',
        new Map([
          ['writers', '1,4'],
          ['guards', '2'],
          ['seconds', '1.5'],
        ]),
      ],
    ]);
    const [outcome] = await runLab([contention], {
      quick: true,
      seed: 1,
      given,
      config,
      root: process.cwd(),
      out,
      progress: () => {},
    });
    expect(outcome?.error).toBeUndefined();
    const result = JSON.parse(readFileSync(join(out, 'contention', 'results.json'), 'utf8')) as {
      settings: Record<string, unknown>;
      tables: { name: string; columns: string[]; rows: (string | number | null)[][] }[];
    };
    expect(result.settings.violations).toBe(0);
    const points = result.tables.find((t) => t.name === 'points');
    const col = (name: string) => points?.columns.indexOf(name) ?? -1;
    const four = points?.rows.find((r) => r[col('writers')] === 4);
    expect(Number(four?.[col('successes')])).toBeGreaterThan(0);
    expect(Number(four?.[col('conflicts')])).toBeGreaterThan(0);
    expect(readFileSync(join(out, 'contention', 'successes.svg'), 'utf8')).toContain('<svg');
    await expectReportRendersInChromium(join(out, 'contention'), 'contention');
  });
});

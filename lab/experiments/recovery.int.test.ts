import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { addressesToEnv } from '../../devstack/types.js';
import { loadConfig } from '../../pipeline/config/config.js';
import { expectReportRendersInChromium } from '../../test/support/labReportInBrowser.js';
import { stack } from '../../test/support/stack.js';
import { runLab } from '../core/runLab.js';
import { recovery } from './recovery.js';

describe('lab recovery', () => {
  it('measures the 503 window after a wipe of its own Redis and the stall after a guard kill, losing nothing', async () => {
    const out = mkdtempSync(join(tmpdir(), 'kes-lab-recovery-'));
    const config = loadConfig({
      overrides: { ...addressesToEnv(stack()), KES_SCHEMAS_DIR: join(process.cwd(), 'schemas') },
    });
    const given = new Map([
      [
        'recovery',
        new Map([
          ['log-events', '1000'],
          ['leases', '1000'],
          ['seconds', '1.5'],
        ]),
      ],
    ]);
    const [outcome] = await runLab([recovery], {
      quick: true,
      seed: 1,
      given,
      config,
      root: process.cwd(),
      out,
      progress: () => {},
    });
    expect(outcome?.error).toBeUndefined();
    const result = JSON.parse(readFileSync(join(out, 'recovery', 'results.json'), 'utf8')) as {
      settings: Record<string, unknown>;
      tables: { name: string; columns: string[]; rows: (string | number | null)[][] }[];
    };
    expect(result.settings.violations).toBe(0);
    const table = (name: string) => result.tables.find((t) => t.name === name);
    const cell = (name: string, column: string) => table(name)?.rows[0]?.[table(name)?.columns.indexOf(column) ?? -1];
    expect(Number(cell('redis-wiped', '503 window s'))).toBeGreaterThan(0);
    expect(Number(cell('redis-wiped', 'appends refused (503)'))).toBeGreaterThan(0);
    expect(Number(cell('guard-killed', 'stall ms (worst stream)'))).toBeGreaterThan(0);
    expect(Number(cell('guard-killed', 'appends written'))).toBeGreaterThan(0);
    await expectReportRendersInChromium(join(out, 'recovery'), 'recovery');
  });
});

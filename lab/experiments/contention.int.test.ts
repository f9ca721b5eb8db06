import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectReportRendersInChromium } from '../../test/support/labReportInBrowser.js';
import { runExperimentInTest } from '../../test/support/labRun.js';
import { contention } from './contention.js';

describe('lab contention', () => {
  it('measures conflicts on one hot stream through guards of its own, and the checker finds nothing', async () => {
    const run = await runExperimentInTest(contention, { writers: '1,4', guards: '2', seconds: '1.5' });
    expect(run.results.settings.violations).toBe(0);
    const four = run.table('points').find((p) => p.writers === 4);
    expect(Number(four?.successes)).toBeGreaterThan(0);
    expect(Number(four?.conflicts)).toBeGreaterThan(0);
    expect(readFileSync(join(run.dir, 'successes.svg'), 'utf8')).toContain('<svg');
    await expectReportRendersInChromium(run.dir, 'contention');
  });
});

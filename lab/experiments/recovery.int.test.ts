import { describe, expect, it } from 'vitest';
import { expectReportRendersInChromium } from '../../test/support/labReportInBrowser.js';
import { runExperimentInTest } from '../../test/support/labRun.js';
import { recovery } from './recovery.js';

describe('lab recovery', () => {
  it('measures the 503 window after a wipe of its own Redis and the stall after a guard kill, losing nothing', async () => {
    const run = await runExperimentInTest(recovery, { 'log-events': '1000', leases: '1000', seconds: '1.5' });
    expect(run.results.settings.violations).toBe(0);
    const [wiped] = run.table('redis-wiped');
    const [killed] = run.table('guard-killed');
    expect(Number(wiped?.['503 window s'])).toBeGreaterThan(0);
    expect(Number(wiped?.['appends refused (503)'])).toBeGreaterThan(0);
    // The guard is killed holding a reservation, so its stream waits for the 1 s lease, not for luck.
    expect(Number(killed?.['streams locked at the kill'])).toBeGreaterThan(0);
    expect(Number(killed?.['stall ms (worst stream)'])).toBeGreaterThanOrEqual(500);
    expect(Number(killed?.['appends written'])).toBeGreaterThan(0);
    await expectReportRendersInChromium(run.dir, 'recovery');
  });
});

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectReportRendersInChromium } from '../../test/support/labReportInBrowser.js';
import { runExperimentInTest } from '../../test/support/labRun.js';
import { lostUpdates } from './lostUpdates.js';

describe('lab lost-updates', () => {
  it('counts lost updates without the guard and none through it, in a report that opens in Chromium', async () => {
    const run = await runExperimentInTest(lostUpdates, { writers: '8', streams: '1', seconds: '2' }, 7);
    const row = (path: string) => run.table('points').find((r) => r.path === path) ?? {};
    // eight writers on one stream through raw Kafka collide; through the guard they never do
    expect(row('raw Kafka')['lost updates']).toBeGreaterThan(0);
    expect(row('raw Kafka')['duplicate versions']).toBeGreaterThan(0);
    expect(row('guard').acknowledged).toBeGreaterThan(0);
    expect(row('guard')['lost updates']).toBe(0);
    expect(row('guard')['checker violations']).toBe(0);
    expect(readFileSync(join(run.dir, 'lost-updates.svg'), 'utf8')).toContain('<svg');
    await expectReportRendersInChromium(run.dir, 'lost-updates');
  });
});

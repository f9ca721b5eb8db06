import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningGuard } from '../guard/guard.js';
import { type RunningProjector, startProjector } from '../projectors/projector.js';
import { artifactPath, launchChromium, watchPage } from '../test/support/browser.js';
import { API_KEY, startTestGuard, testGuardConfig } from '../test/support/guard.js';
import { testProjectorSettings } from '../test/support/projector.js';
import { openTestEngine, type TestEngine } from '../test/support/readModelFixture.js';
import { runWorkload } from '../verify/load/workload.js';
import { type RunningDashboard, startDashboard } from './dashboardServer.js';

const CATEGORY = 'acct';

/** What the page exposes of what it drew (window.kesDashboard, read as JSON). */
interface Drawn {
  updates: number;
  totalAppends: number;
  appends: { points: number; nonZero: number; latest: number | null } | undefined;
  health: Record<string, { status: string }> | undefined;
}

const readDrawn = (page: Page): Promise<Drawn> =>
  page.evaluate(`(() => {
    const d = window.kesDashboard;
    return {
      updates: d.updates,
      totalAppends: d.lastSnapshot?.totals?.appends ?? 0,
      appends: d.charts.appends,
      health: d.lastSnapshot?.health,
    };
  })()`) as Promise<Drawn>;

/**
 * The dashboard in a real headless Chromium against a running guard and projector, while this test's own load
 * runs: the charts must show data that moves, read from the page itself (its data attributes and
 * window.kesDashboard), with no console error and no request leaving this machine.
 */
describe('kes dashboard in Chromium', () => {
  let guard: RunningGuard | undefined;
  let scratch: TestEngine | undefined;
  let projector: RunningProjector | undefined;
  let dashboard: RunningDashboard | undefined;
  let browser: Browser | undefined;

  beforeAll(async () => {
    const setup = testGuardConfig();
    [guard, scratch, browser] = await Promise.all([
      startTestGuard(setup),
      openTestEngine('dashboard'),
      launchChromium(),
    ]);
    const config = testProjectorSettings({ ...setup.config, CLICKHOUSE_EMBEDDED_PATH: scratch.dir });
    // The category's topic exists before the projector starts, so it subscribes at once (a new topic restarts its
    // consumer: the charts would wait for that).
    await runWorkload({
      urls: [guard.url],
      apiKey: API_KEY,
      category: CATEGORY,
      streams: 5,
      concurrency: 1,
      appends: 5,
    });
    projector = await startProjector(config, { engine: scratch.engine });
    dashboard = await startDashboard({
      guards: [guard.url],
      projectors: [projector.url],
      port: 0,
      reportsEveryMs: 2000,
    });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await dashboard?.close();
    await projector?.close();
    await guard?.close();
    await scratch?.dispose();
  });

  it('draws appends, latency, health and reports that move while load runs', async () => {
    if (!browser || !dashboard || !guard) throw new Error('setup failed');
    const stop = new AbortController();
    const load = runWorkload({
      urls: [guard.url],
      apiKey: API_KEY,
      category: CATEGORY,
      streams: 40,
      concurrency: 6,
      durationMs: 90_000,
      graceMs: 1000,
      signal: stop.signal,
    });
    const page = await browser.newPage({ viewport: { width: 1400, height: 1800 } });
    const watch = watchPage(page);
    try {
      await page.goto(dashboard.url);
      const appends = page.locator('[data-chart="appends"]');
      await page.waitForFunction(
        `Number(document.querySelector('[data-chart="appends"]')?.dataset.nonzero ?? 0) >= 2`,
        undefined,
        { timeout: 30_000 },
      );
      const first = await readDrawn(page);
      const firstPoints = Number(await appends.getAttribute('data-points'));
      await page.screenshot({ path: artifactPath('dashboard-first.png'), fullPage: true });

      // While the load runs the page keeps drawing: more points, more appends counted, a non-zero latest rate.
      await page.waitForFunction(
        `(() => {
          const d = window.kesDashboard;
          return d.updates >= ${first.updates + 3} && (d.lastSnapshot?.totals?.appends ?? 0) > ${first.totalAppends};
        })()`,
        undefined,
        { timeout: 20_000 },
      );
      const later = await readDrawn(page);
      expect(later.totalAppends).toBeGreaterThan(first.totalAppends);
      expect(later.appends?.nonZero ?? 0).toBeGreaterThan(first.appends?.nonZero ?? 0);
      expect(Number(await appends.getAttribute('data-points'))).toBeGreaterThan(firstPoints);
      expect(Number(await appends.getAttribute('data-latest'))).toBeGreaterThan(0);
      expect(Number(await page.locator('[data-chart="latency"]').getAttribute('data-points'))).toBeGreaterThan(0);
      expect(later.health?.guard?.status).toBe('ok');
      expect(later.health?.projector?.status).toBe('ok');
      expect(await page.locator('[data-part="redis"]').getAttribute('data-status')).toBe('ok');

      // The projector's reports are drawn once it has projected some of the load.
      await page.waitForFunction(
        `Number(document.querySelector('[data-chart="report:event-types"]')?.dataset.points ?? 0) > 0`,
        undefined,
        { timeout: 30_000 },
      );
      await page.waitForFunction(
        `Number(document.querySelector('[data-chart="projector-lag"]')?.dataset.points ?? 0) > 0 &&
         Number(document.querySelector('[data-chart="throughput"]')?.dataset.nonzero ?? 0) > 0`,
        undefined,
        { timeout: 20_000 },
      );
      await page.screenshot({ path: artifactPath('dashboard-running.png'), fullPage: true });
      expect(watch.consoleErrors).toEqual([]);
      expect(watch.foreignRequests).toEqual([]);
    } finally {
      stop.abort();
      await load.catch(() => undefined);
      await page.close();
    }
  }, 120_000);
});

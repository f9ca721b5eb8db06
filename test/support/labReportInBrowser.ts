import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect } from 'vitest';
import { artifactPath, launchChromium, watchPage } from './browser.js';

/**
 * Opens a lab experiment's report.html in headless Chromium, as a person would from the file manager, and checks
 * what they would see: every chart the results list is drawn (an SVG of real size with its series' lines or bars),
 * the reading is there, and nothing failed in the page. Saves a full-page screenshot as a test artefact.
 */
export async function expectReportRendersInChromium(experimentDir: string, experiment: string): Promise<void> {
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const watch = watchPage(page);
    await page.goto(pathToFileURL(join(experimentDir, 'report.html')).href);
    const charts = await page.$$eval('figure.chart', (figures) =>
      figures.map((f) => {
        const svg = f.querySelector('svg');
        const box = svg?.getBoundingClientRect();
        return {
          name: f.getAttribute('data-chart'),
          width: box?.width ?? 0,
          height: box?.height ?? 0,
          // ECharts draws series and axes as <path>; an empty chart has only its frame and text
          paths: svg?.querySelectorAll('path').length ?? 0,
        };
      }),
    );
    const reading = await page.textContent('p.reading');
    await page.screenshot({ path: artifactPath(`lab-${experiment}-report.png`), fullPage: true });
    expect(charts.length).toBeGreaterThan(0);
    for (const chart of charts) {
      expect(chart.width, `chart ${chart.name}`).toBeGreaterThan(100);
      expect(chart.height, `chart ${chart.name}`).toBeGreaterThan(100);
      expect(chart.paths, `chart ${chart.name} draws its series`).toBeGreaterThan(3);
    }
    expect(reading?.length ?? 0).toBeGreaterThan(40);
    expect(watch.consoleErrors).toEqual([]);
    // the report is a local file: nothing it loads may leave the machine
    expect(watch.foreignRequests.filter((url) => !url.startsWith('file:'))).toEqual([]);
  } finally {
    await browser.close();
  }
}

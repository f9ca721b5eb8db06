import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';

/** Debian's Chromium; playwright-core drives it (no browser download: the machines have no internet). */
export const CHROMIUM = '/usr/bin/chromium';

/**
 * A headless Chromium for browser tests. The network here is closed: without the background-networking flags
 * Chromium's own connections (updates, sync, QUIC probes) are refused and clutter the run.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Where a browser test saves `name` (a screenshot): .kes/artifacts/browser/<name>, its folder created. */
export function artifactPath(name: string): string {
  const dir = join(ROOT, '.kes', 'artifacts', 'browser');
  mkdirSync(dir, { recursive: true });
  return join(dir, name);
}

/** What a page did wrong while a test watched: console errors, uncaught exceptions, requests to other hosts. */
export interface PageWatch {
  consoleErrors: string[];
  foreignRequests: string[];
}

/** Records console errors, page errors and any request leaving 127.0.0.1/localhost (data: URLs are local). */
export function watchPage(page: Page): PageWatch {
  const watch: PageWatch = { consoleErrors: [], foreignRequests: [] };
  page.on('console', (message) => {
    if (message.type() === 'error') watch.consoleErrors.push(message.text());
  });
  page.on('pageerror', (error) => watch.consoleErrors.push(`uncaught: ${error.message}`));
  page.on('request', (request) => {
    const url = new URL(request.url());
    const local =
      url.protocol === 'data:' ||
      url.protocol === 'blob:' ||
      ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
    if (!local) watch.foreignRequests.push(request.url());
  });
  return watch;
}

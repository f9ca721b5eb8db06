import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../pipeline/errors.js';

/** A file the dashboard serves: its bytes, read once, and its content type. */
export interface Asset {
  body: Buffer;
  type: string;
}

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
};

/** The page's files are not compiled: they sit in dashboard/page/ of the package, above dist/ when running built. */
export function pageDir(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    for (const candidate of [join(dir, 'page'), join(dir, 'dashboard', 'page')]) {
      if (existsSync(join(candidate, 'index.html'))) return candidate;
    }
    if (dirname(dir) === dir)
      throw new ConfigError('dashboard', 'dashboard/page/index.html not found above the module');
  }
}

/**
 * Every asset by the path it is served at: the page, its script and style, and ECharts from the echarts package
 * (node_modules), so that the page loads nothing from another host.
 */
export function loadAssets(): Map<string, Asset> {
  const dir = pageDir();
  const assets = new Map<string, Asset>();
  for (const file of ['index.html', 'dashboard.js', 'charts.js', 'dashboard.css']) {
    const type = TYPES[file.slice(file.lastIndexOf('.') + 1)] ?? 'application/octet-stream';
    assets.set(file === 'index.html' ? '/' : `/page/${file}`, { body: readFileSync(join(dir, file)), type });
  }
  const echarts = createRequire(import.meta.url).resolve('echarts/dist/echarts.min.js');
  assets.set('/vendor/echarts.min.js', { body: readFileSync(echarts), type: TYPES.js as string });
  return assets;
}

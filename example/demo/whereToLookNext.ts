import { join, relative } from 'node:path';
import type { DemoOptions } from './demoOptions.js';
import type { DemoResult } from './demoResult.js';

/**
 * The summary's last lines: the commands to look further with, and with --keep, the live dashboard's address (when
 * one was started), the running services' metrics, pids, logs and the run's API keys.
 */
export function whereToLookNext(result: DemoResult, options: Pick<DemoOptions, 'keep'>): string[] {
  const cwd = process.cwd();
  const history = relative(cwd, result.historyFile) || result.historyFile;
  const url = (name: string) => result.services.find((s) => s.name === name)?.url ?? '';
  return [
    'where to look next:',
    "  kes report list --projections dist/example/modules.js   # every report, the bank's included",
    '  kes report balances --projections dist/example/modules.js --format csv',
    '  kes projections status                   # lag, freshness, dead letters per projection',
    `  kes check --history ${history} --allow-unlogged --read-models`,
    options.keep
      ? [
          ...(url('dashboard')
            ? [`  open ${url('dashboard')}/   # the live dashboard (kes dashboard): rates, latency, lag, reports`]
            : []),
          `  curl ${url('guard-1')}/metrics          # guard: appends, commands, conflicts, group commits`,
          `  curl ${url('projector')}/metrics      # projector: lag, freshness, batches`,
          `  curl ${url('transfers')}/metrics      # process manager: steps, refusals, retries`,
          `  curl ${url('projector')}/reports/money-check`,
          `  still running (--keep): ${result.services.map((s) => `${s.name} pid ${s.pid}`).join(', ')}; logs in ${relative(cwd, dirOf(result.historyFile))}/; stop with: kill ${result.services.map((s) => s.pid).join(' ')}`,
          `  API keys of this run: ${relative(cwd, join(dirOf(result.historyFile), 'api-keys.json'))}`,
        ].join('\n')
      : '  kes demo --keep                          # leave the guard, projector and process manager running (metrics, reports over HTTP)',
    '  docs/architecture.md                     # the picture behind this run',
  ];
}

function dirOf(path: string): string {
  return path.slice(0, path.lastIndexOf('/'));
}

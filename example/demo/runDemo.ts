import { join } from 'node:path';
import { openEngine } from '../../pipeline/clickhouse/openEngine.js';
import { type KesConfig, loadConfig } from '../../pipeline/config/config.js';
import { bringUpStack } from './bringUpStack.js';
import { runDemoChecks, writeHistory } from './demoChecks.js';
import { type DemoKeys, writeDemoKeys } from './demoKeys.js';
import type { DemoOptions, Say } from './demoOptions.js';
import { runDemoReports } from './demoReports.js';
import { type DemoResult, demoResult } from './demoResult.js';
import { DemoServices } from './demoServices.js';
import { runWithProgressLine } from './liveProgress.js';
import { openAccounts } from './openAccounts.js';
import { printSummary } from './printSummary.js';
import { ProjectorLag } from './projectorLag.js';
import { releaseServices, withServices } from './serviceLifetime.js';
import { startServices } from './startServices.js';
import { waitForDrain } from './waitForDrain.js';

/**
 * `kes demo`: the whole architecture from one command. Brings up the stack, starts a guard hosting the example
 * modules, a projector and the transfers process manager (each a `kes` process, as in production), runs a bank's
 * workload against them, waits for every transfer to finish and the read models to catch up, then prints the
 * reports from ClickHouse and the checks: `kes check` (the log against what clients were told, and the read models
 * against the log) and the ledger check (the bank's rules over the log).
 */
export async function runDemo(options: DemoOptions, say: Say): Promise<DemoResult> {
  const stackStarted = options.stack ? await bringUpStack(options.home, say) : false;
  const config = loadConfig({ overrides: { KES_HOME: options.home } });
  const runId = `demo${Date.now().toString(36)}`;
  const dir = join(config.KES_HOME, 'demo', runId);
  const services = new DemoServices(dir);
  const keys = writeDemoKeys(dir);
  const result = await withServices(services, options.keep, say, () =>
    runWithServices({ config, options, services, keys, runId, dir }, say),
  );
  await releaseServices(services, options.keep, stackStarted, say);
  return result;
}

interface DemoRun {
  config: KesConfig;
  options: DemoOptions;
  services: DemoServices;
  keys: DemoKeys;
  runId: string;
  /** `<KES_HOME>/demo/<runId>`: the services' logs, the API keys, the history. */
  dir: string;
}

async function runWithServices(
  { config, options, services, keys, runId, dir }: DemoRun,
  say: Say,
): Promise<DemoResult> {
  const started = await startServices(config, options.guards, services, keys, say);
  const { guards, projector } = started;
  for (const spec of options.extraServices?.(started) ?? []) {
    const extra = await services.start(spec);
    say(`${extra.name}: ${extra.url}/ (pid ${extra.pid})`);
  }
  const { workload, client } = await openAccounts(guards, keys.teller, runId, options, say);
  const lag = new ProjectorLag(projector.url);
  try {
    const seconds = await runWithProgressLine(workload, lag, options.durationS);
    const drain = await waitForDrain(client, workload.transfers, lag, say);
    const historyFile = await writeHistory(dir, workload);
    const engine = await openEngine(config);
    try {
      const checks = await runDemoChecks(config, engine, workload, runId, say);
      const reports = await runDemoReports(engine, config.KES_CLICKHOUSE_DATABASE);
      const result = demoResult({
        runId,
        services: services.started,
        workload,
        seconds,
        drain,
        checks,
        reports,
        historyFile,
      });
      printSummary(result, checks.check, options, say);
      return result;
    } finally {
      await engine.close();
    }
  } finally {
    lag.stop();
  }
}

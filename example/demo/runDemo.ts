import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { logLevel } from 'kafkajs';
import { stackStatus, stackUp } from '../../devstack/stack.js';
import { CommandClient } from '../../guard/client/commandClient.js';
import { openEngine } from '../../pipeline/clickhouse/openEngine.js';
import { type KesConfig, LOCAL_DEV_KEY, loadConfig } from '../../pipeline/config/config.js';
import { createKafka } from '../../pipeline/kafka/kafkaClient.js';
import { type OutputFormat, renderRows } from '../../pipeline/output/textOutput.js';
import { openEventCatalog } from '../../pipeline/schemas/eventCatalog.js';
import { ProjectionCatalog } from '../../projectors/catalog/projectionCatalog.js';
import { renderReport } from '../../projectors/reports/formatReport.js';
import { prepareReport, type ReportRow, runReport } from '../../projectors/reports/runReport.js';
import { HistoryWriter } from '../../verify/history/history.js';
import { type CheckReport, renderReport as renderCheck, runCheck } from '../../verify/history/report.js';
import { readModelsCheck } from '../../verify/readModels/readModelCheck.js';
import { checkLedger, type LedgerReport } from '../check/ledgerCheck.js';
import { bankReportCatalog } from '../reports/reportCatalog.js';
import type { TransferState } from '../transfers/transfer.js';
import { BankWorkload } from './bankWorkload.js';
import { type DemoService, DemoServices } from './demoServices.js';
import { ProgressBar, progressLine, sumOfMetric } from './progressBar.js';

/**
 * `kes demo`: the whole architecture from one command. Brings up the stack, starts a guard hosting the example
 * modules, a projector and the transfers process manager (each a `kes` process, as in production), runs a bank's
 * workload against them, waits for every transfer to finish and the read models to catch up, then prints the
 * reports from ClickHouse and the checks: `kes check` (the log against what clients were told, and the read models
 * against the log) and the ledger check (the bank's rules over the log).
 */
export interface DemoOptions {
  home?: string | undefined;
  durationS: number;
  /** Commands per second over all clients; 0 = as fast as the system answers. */
  rate: number;
  accounts: number;
  concurrency: number;
  /** Guard processes (clients spread their commands over them). */
  guards: number;
  /** Leave the services (and the stack) running. */
  keep: boolean;
  /** Bring the stack up (false: use the services the configuration names, as they are). */
  stack: boolean;
  format: Extract<OutputFormat, 'table' | 'json'>;
}

export interface DemoResult {
  runId: string;
  ok: boolean;
  services: DemoService[];
  workload: {
    seconds: number;
    commands: number;
    commandsPerS: number;
    ok: number;
    rejected: Record<string, number>;
    conflictsRetried: number;
    conflictsSpent: number;
    errors: number;
    p50Ms: number;
    p99Ms: number;
    transfersRequested: number;
  };
  transfers: Record<string, number>;
  drainSeconds: number;
  check: { violations: number; committedEvents: number; loggedAppends: number };
  ledger: LedgerReport;
  /** External money per currency as the clients were told (the ledger check holds the log to it). */
  acknowledged: Record<string, { externalIn: number; externalOut: number }>;
  reports: Record<string, ReportRow[]>;
  historyFile: string;
}

const REPORTS: { name: string; options: Record<string, string> }[] = [
  { name: 'balances', options: { limit: '10' } },
  { name: 'transfers', options: {} },
  { name: 'money-daily', options: {} },
  { name: 'money-check', options: {} },
];

export async function runDemo(options: DemoOptions, say: (line: string) => void): Promise<DemoResult> {
  const home = { KES_HOME: options.home };
  let stackStarted = false;
  if (options.stack) {
    const before = loadConfig({ overrides: home, ignoreStackEnv: true });
    const wasUp = await stackStatus(before).then(
      (rows) => rows.length > 0 && rows.every((r) => r.state === 'up' || r.state === 'absent'),
      () => false,
    );
    const { mode } = await stackUp(before, say);
    stackStarted = !wasUp;
    say(`stack: up (${mode})`);
  }
  const config = loadConfig({ overrides: home });
  const runId = `demo${Date.now().toString(36)}`;
  const dir = join(config.KES_HOME, 'demo', runId);
  const services = new DemoServices(dir);
  const keys = demoKeys(dir);
  // The services run in their own process groups (so --keep can leave them running): Ctrl-C reaches only this
  // process, which must stop them itself.
  const interrupted = () => {
    say(options.keep ? 'interrupted: the services keep running (--keep)' : 'interrupted: stopping the services');
    void (options.keep ? Promise.resolve(services.detach()) : services.stopAll()).finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  const result = await (async () => {
    try {
      return await runWithServices(config, options, services, keys, runId, dir, say);
    } catch (error) {
      await services.stopAll();
      throw error;
    } finally {
      process.off('SIGINT', interrupted);
      process.off('SIGTERM', interrupted);
    }
  })();
  if (options.keep) {
    services.detach();
  } else {
    await services.stopAll();
    if (stackStarted)
      say('the demo started the stack: it stays up for the report commands (`kes stack down` stops it)');
  }
  return result;
}

interface DemoKeys {
  file: string;
  teller: string;
  transfers: string;
}

/**
 * One key per service, each with its authority: the accounts service owns `account`; the transfers service owns
 * `transfer` and may command accounts; the bank's tellers (the workload) only send commands. The local key stays, so
 * the README's examples work against the demo's guard.
 */
function demoKeys(dir: string): DemoKeys {
  const key = (name: string) => `${name}-${randomBytes(12).toString('hex')}`;
  const keys = { teller: key('teller'), transfers: key('transfers'), accounts: key('accounts') };
  const file = join(dir, 'api-keys.json');
  writeFileSync(
    file,
    JSON.stringify(
      [
        { key: keys.teller, service: 'teller', categories: ['teller'], commands: ['account', 'transfer'] },
        { key: keys.accounts, service: 'accounts', categories: ['account'] },
        { key: keys.transfers, service: 'transfers', categories: ['transfer'], commands: ['account'] },
        { key: LOCAL_DEV_KEY, service: 'local-dev', categories: ['*'] },
      ],
      null,
      2,
    ),
    { mode: 0o600 },
  );
  return { file, teller: keys.teller, transfers: keys.transfers };
}

async function runWithServices(
  config: KesConfig,
  options: DemoOptions,
  services: DemoServices,
  keys: DemoKeys,
  runId: string,
  dir: string,
  say: (line: string) => void,
): Promise<DemoResult> {
  const shared = { KES_HOME: config.KES_HOME, KES_LOG_LEVEL: 'warn' };
  const guardSpec = (port: number) => ({
    args: ['guard'],
    portSetting: 'KES_GUARD_PORT',
    defaultPort: port,
    env: { ...shared, KES_API_KEYS: `@${keys.file}` },
    waitReady: true,
  });
  const guard = await services.start({ name: 'guard-1', ...guardSpec(config.KES_GUARD_PORT) });
  say(`guard-1: ${guard.url} (pid ${guard.pid})`);
  const projector = await services.start({
    name: 'projector',
    args: ['project'],
    portSetting: 'KES_PROJECTOR_PORT',
    defaultPort: config.KES_PROJECTOR_PORT,
    env: shared,
    waitReady: true,
  });
  say(`projector: ${projector.url} (pid ${projector.pid})`);
  const transfers = await services.start({
    name: 'transfers',
    args: ['transfers'],
    portSetting: 'KES_TRANSFERS_PORT',
    defaultPort: config.KES_TRANSFERS_PORT,
    env: { ...shared, KES_GUARD_URL: guard.url, KES_TRANSFERS_API_KEY: keys.transfers },
    waitReady: false,
  });
  say(`transfers process manager: ${transfers.url} (pid ${transfers.pid})`);
  const guards = [guard];
  for (let i = 2; i <= options.guards; i++) {
    const more = await services.start({ name: `guard-${i}`, ...guardSpec(config.KES_GUARD_PORT + 10 + i) });
    say(`guard-${i}: ${more.url} (pid ${more.pid})`);
    guards.push(more);
  }
  for (const line of services.moved) say(line);

  // Each client falls back to the other guards when its own does not answer.
  const urls = guards.map((g) => g.url);
  const clients = urls.map(
    (_, i) => new CommandClient({ url: [...urls.slice(i), ...urls.slice(0, i)], apiKey: keys.teller }),
  );
  const client = clients[0] as CommandClient;
  const workload = new BankWorkload({
    clients,
    runId,
    accounts: options.accounts,
    concurrency: options.concurrency,
    durationMs: options.durationS * 1000,
    rate: options.rate,
  });
  say(`opening ${options.accounts} accounts (run ${runId}) …`);
  await workload.setup();

  const bar = new ProgressBar();
  let lag: number | undefined;
  const lagPoller = setInterval(() => {
    void fetch(`${projector.url}/metrics`, { signal: AbortSignal.timeout(1_000) })
      .then((r) => r.text())
      .then((text) => {
        lag = sumOfMetric(text, 'kes_projector_lag');
      })
      .catch(() => {});
  }, 1_000);
  const began = Date.now();
  let window = { at: began, commands: workload.stats.commands };
  let perS = 0;
  const figures = () => {
    const now = Date.now();
    if (now - window.at >= 1_000) {
      perS = ((workload.stats.commands - window.commands) * 1000) / (now - window.at);
      window = { at: now, commands: workload.stats.commands };
    }
    return progressLine({
      elapsedS: (now - began) / 1000,
      durationS: options.durationS,
      commandsPerS: perS,
      conflictsRetried: workload.stats.conflictsRetried,
      rejected: [...workload.stats.rejected.values()].reduce((a, b) => a + b, 0),
      transfers: workload.stats.transfersRequested,
      lag,
    });
  };
  const ticker = setInterval(() => bar.update(figures()), 250);
  try {
    await workload.run();
  } finally {
    clearInterval(ticker);
  }
  bar.done(figures());
  const seconds = (Date.now() - began) / 1000;

  // Let the process manager finish the transfers in flight, and the projector catch up.
  const drainBegan = Date.now();
  const states = await waitForTransfers(client, workload.transfers, say);
  await waitFor(async () => lag === 0, 120_000);
  clearInterval(lagPoller);
  const drainSeconds = (Date.now() - drainBegan) / 1000;

  // `kes check`: what clients were told against the log (the process manager's own appends are not in this history),
  // and the read models against the log.
  const historyFile = join(dir, 'history.jsonl');
  const history = new HistoryWriter(historyFile);
  for (const attempt of workload.attempts) history.record(attempt);
  await history.close();
  const kafka = createKafka(config, 'kes-demo', { logLevel: logLevel.NOTHING });
  const engine = await openEngine(config);
  try {
    say('checking the log and the read models …');
    const check: CheckReport = await runCheck({
      kafka,
      attempts: workload.attempts,
      topicPrefix: config.KES_TOPIC_PREFIX,
      allowUnlogged: true,
      idempotencyWindowMs: config.KES_IDEMPOTENCY_WINDOW_S * 1000,
      kafkaAddress: config.KAFKA_BROKERS.join(','),
      checks: [
        readModelsCheck(
          new ProjectionCatalog(engine, config.KES_CLICKHOUSE_DATABASE, config.KES_PROJECTOR_GROUP_PREFIX),
          { topicPrefix: config.KES_TOPIC_PREFIX, waitMs: 60_000 },
        ),
      ],
    });
    const catalog = await openEventCatalog({ registryUrl: config.SCHEMA_REGISTRY_URL, dir: config.KES_SCHEMAS_DIR });
    const ledger = await checkLedger(kafka, catalog, config.KES_TOPIC_PREFIX, {
      settled: true,
      acknowledged: workload.acknowledged,
      idPrefix: runId,
    });
    const reports: Record<string, ReportRow[]> = {};
    for (const { name, options: reportOptions } of REPORTS) {
      const prepared = prepareReport(bankReportCatalog, name, reportOptions);
      reports[name] = (await runReport(engine, config.KES_CLICKHOUSE_DATABASE, prepared)).rows;
    }
    const latencies = [...workload.stats.latenciesMs].sort((a, b) => a - b);
    const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
    const result: DemoResult = {
      runId,
      ok: check.violations.length === 0 && ledger.violations.length === 0 && states.unfinished === 0,
      services: services.started,
      workload: {
        seconds,
        commands: workload.stats.commands,
        commandsPerS: workload.stats.commands / seconds,
        ok: workload.stats.ok,
        rejected: Object.fromEntries(workload.stats.rejected),
        conflictsRetried: workload.stats.conflictsRetried,
        conflictsSpent: workload.stats.conflictsSpent,
        errors: workload.stats.errors,
        p50Ms: at(0.5),
        p99Ms: at(0.99),
        transfersRequested: workload.stats.transfersRequested,
      },
      transfers: states.byStatus,
      drainSeconds,
      check: {
        violations: check.violations.length,
        committedEvents: check.summary.committedEvents,
        loggedAppends: workload.attempts.length,
      },
      ledger,
      acknowledged: Object.fromEntries(workload.acknowledged),
      reports,
      historyFile,
    };
    if (options.format === 'table') {
      say('');
      process.stdout.write(`${renderSummary(result, check, options)}\n`);
    } else {
      process.stdout.write(
        `${JSON.stringify({ ...result, checkReport: JSON.parse(renderCheck(check, 'json')) }, null, 2)}\n`,
      );
    }
    return result;
  } finally {
    await engine.close();
  }
}

/**
 * Waits until every transfer of the run is completed or failed. Transfers finish roughly in the order they were
 * requested, so each round reads states from the oldest unfinished one on and stops at the first few still in flight:
 * a few dozen reads a round, not one per transfer.
 */
async function waitForTransfers(
  client: CommandClient,
  ids: readonly string[],
  say: (line: string) => void,
  timeoutMs = 120_000,
): Promise<{ byStatus: Record<string, number>; unfinished: number }> {
  const byStatus: Record<string, number> = {};
  let pending = [...ids];
  const deadline = Date.now() + timeoutMs;
  let said = Date.now();
  while (pending.length > 0 && Date.now() < deadline) {
    const still: string[] = [];
    let i = 0;
    while (i < pending.length && still.length < 16) {
      const chunk = pending.slice(i, i + 16);
      i += chunk.length;
      const states = await Promise.all(chunk.map((t) => client.state<TransferState>('transfer', t)));
      states.forEach(({ state }, j) => {
        if (state.status === 'completed' || state.status === 'failed') {
          byStatus[state.status] = (byStatus[state.status] ?? 0) + 1;
        } else still.push(chunk[j] as string);
      });
    }
    pending = [...still, ...pending.slice(i)];
    if (pending.length > 0) {
      if (Date.now() - said > 5_000) {
        say(`waiting for ${pending.length} transfer(s) in flight …`);
        said = Date.now();
      }
      await new Promise((r) => setTimeout(r, 300));
    }
  }
  if (pending.length > 0) byStatus.unfinished = pending.length;
  return { byStatus, unfinished: pending.length };
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}

function renderSummary(result: DemoResult, check: CheckReport, options: DemoOptions): string {
  const w = result.workload;
  const n = (x: number) => Math.round(x).toLocaleString('en-US');
  const rejected = Object.entries(w.rejected)
    .sort((a, b) => b[1] - a[1])
    .map(([code, count]) => `${code} ${n(count)}`)
    .join(', ');
  const figures = renderRows(
    [
      [
        'commands',
        `${n(w.commands)} in ${w.seconds.toFixed(1)} s (${n(w.commandsPerS)}/s, ${options.concurrency} clients, ` +
          `${options.guards} guard${options.guards === 1 ? '' : 's'})`,
      ],
      ['written', n(w.ok)],
      ['refused by a business rule (422)', rejected || '0'],
      ['compare-and-swap conflicts, decided again', n(w.conflictsRetried)],
      ['conflicts that outlived the retries (409)', n(w.conflictsSpent)],
      ['errors', w.errors === 0 ? '0' : `${n(w.errors)}`],
      ['latency p50 / p99', `${w.p50Ms} ms / ${w.p99Ms} ms`],
      [
        'transfers',
        Object.entries(result.transfers)
          .map(([s, c]) => `${s} ${n(c)}`)
          .join(', ') || 'none',
      ],
      ['drain (transfers finished, read models caught up)', `${result.drainSeconds.toFixed(1)} s`],
    ],
    [
      { header: 'workload', value: (r: string[]) => r[0] },
      { header: '', value: (r: string[]) => r[1] },
    ],
    'table',
  );
  const reportBlocks = REPORTS.map(({ name, options: o }) => {
    const prepared = prepareReport(bankReportCatalog, name, o);
    return `kes report ${name}${o.limit ? ` --limit ${o.limit}` : ''}\n${renderReport(prepared.definition, result.reports[name] ?? [], 'table')}`;
  });
  const ledger = result.ledger;
  const ledgerLines = [
    `ledger check (the bank's rules over the Kafka log, run ${result.runId}): ${ledger.events.toLocaleString('en-US')} events, ` +
      `${ledger.accounts.open} accounts open, ${ledger.accounts.closed} closed`,
    ...ledger.currencies.map(
      (c) =>
        `  ${c.currency}: in ${n(c.externalIn)}, out ${n(c.externalOut)}, balances ${n(c.balances)}, held by transfers ${n(c.heldByTransfers)}` +
        ` (clients were told: in ${n(result.acknowledged[c.currency]?.externalIn ?? 0)}, out ${n(result.acknowledged[c.currency]?.externalOut ?? 0)})`,
    ),
    ledger.violations.length === 0
      ? '  no violations'
      : ledger.violations
          .slice(0, 20)
          .map((v) => `  ${v}`)
          .join('\n'),
  ];
  const cwd = process.cwd();
  const history = relative(cwd, result.historyFile) || result.historyFile;
  const url = (name: string) => result.services.find((s) => s.name === name)?.url ?? '';
  const next = [
    'where to look next:',
    '  kes report list                          # every report; kes report balances --format csv',
    '  kes projections status                   # lag, freshness, dead letters per projection',
    `  kes check --history ${history} --allow-unlogged --read-models`,
    options.keep
      ? [
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
  return [
    figures,
    '',
    ...reportBlocks.flatMap((b) => [b, '']),
    'kes check (acknowledged commands against the log; read models against the log):',
    renderCheck(check, 'table'),
    '',
    ...ledgerLines,
    '',
    result.ok ? 'demo: every check passed' : 'demo: CHECKS FAILED (see above)',
    '',
    ...next,
  ].join('\n');
}

function dirOf(path: string): string {
  return path.slice(0, path.lastIndexOf('/'));
}

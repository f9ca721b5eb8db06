import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { logLevel } from 'kafkajs';
import { ServerEngine } from '../../pipeline/clickhouse/serverEngine.js';
import { LOCAL_DEV_KEY } from '../../pipeline/config/config.js';
import { createKafka } from '../../pipeline/kafka/kafkaClient.js';
import { ProjectionCatalog } from '../../projectors/catalog/projectionCatalog.js';
import { type AppendAttempt, HistoryWriter } from '../history/history.js';
import { runCheck } from '../history/report.js';
import { runWorkload, type WorkloadStats } from '../load/workload.js';
import { uniqueName } from '../processes/names.js';
import { readModelsCheck } from '../readModels/readModelCheck.js';
import { type FaultKind, faultSchedule } from './faultSchedule.js';
import { FaultInjector, type InjectedFault, Watchdog } from './injectors.js';
import { type SoakServices, startSoakServices } from './soakServices.js';
import { type SoakRecord, type SoakSummary, summarizeSoak } from './soakSummary.js';

/**
 * The soak: guards, clients with retries, projectors, and a seeded schedule of every fault, until the clients have
 * `appends` acknowledged appends; then the history checker and the read-model check over everything written.
 */
export interface SoakOptions {
  /** Stop once this many appends were acknowledged. */
  appends: number;
  /** Stop the load after this long at the latest (the checks still run). */
  seconds?: number | undefined;
  seed: number;
  kinds: readonly FaultKind[];
  guards: number;
  clients: number;
  projectors: number;
  streams: number;
  /** Mean pause between faults. */
  faultGapMs: number;
  /** Keep the load going until every kind of fault happened at least once (the suite's short run). */
  everyFault: boolean;
  schemaRegistryUrl: string;
  /** How long the projectors get to catch up at the end. @default 15 min */
  catchUpMs?: number;
  /** Given the services once they run (a test stops them in afterAll if its timeout cut the soak short). */
  onServices?: (services: SoakServices) => void;
  /** Aborting it stops the clients early; the checks still run (SIGINT, SIGTERM). */
  stop?: AbortSignal;
  /** Progress and event lines (stderr). */
  log: (line: string) => void;
  /** Seconds between progress lines. @default 10 */
  progressEverySeconds?: number;
}

const RESERVATION_MS = 1_000;
const LEASE_MS = 3_000;

/** The history file, and the time of every successful answer (for the stall) without reading it back. */
class TimedHistory extends HistoryWriter {
  readonly okTimesMs: number[] = [];
  override record(a: AppendAttempt): void {
    if (a.outcome.status === 'ok') this.okTimesMs.push(a.endMs);
    super.record(a);
  }
}

export async function runSoak(options: SoakOptions): Promise<{ summary: SoakSummary; historyPath: string }> {
  const log = options.log;
  const services = await startSoakServices({
    guards: options.guards,
    projectors: options.projectors,
    schemaRegistryUrl: options.schemaRegistryUrl,
    partitions: 8,
    reservationMs: RESERVATION_MS,
    leaseMs: LEASE_MS,
    log,
  });
  options.onServices?.(services);
  const rebuilds = { count: 0, eventsApplied: 0, ms: 0 };
  for (const g of services.guards) {
    g.onLine((line) => {
      if (!line.includes('guard state rebuilt')) return;
      rebuilds.count += 1;
      rebuilds.eventsApplied += Number(/"eventsApplied":(\d+)/.exec(line)?.[1] ?? 0);
      rebuilds.ms += Number(/"ms":(\d+)/.exec(line)?.[1] ?? 0);
    });
  }
  const historyPath = join(mkdtempSync(join(tmpdir(), 'kes-soak-')), 'history.jsonl');
  const history = new TimedHistory(historyPath);
  log(`history: ${historyPath}; topics ${services.topicPrefix}*; seed ${options.seed}`);
  const injector = new FaultInjector(services);
  const watchdog = new Watchdog(services.processes, injector.held, log);
  watchdog.start();
  const faults: InjectedFault[] = [];
  let current: string | undefined;
  const stopLoad = new AbortController();
  const startMs = Date.now();
  options.stop?.addEventListener('abort', () => {
    log('asked to stop: stopping the clients, then checking what was written');
    stopLoad.abort();
  });

  const happenedKinds = () => new Set(faults.filter((f) => f.happened).map((f) => f.kind));
  const chaos = (async () => {
    for (const planned of faultSchedule({
      seed: options.seed,
      kinds: options.kinds,
      guards: options.guards,
      projectors: options.projectors,
      meanGapMs: options.faultGapMs,
      leaseMs: LEASE_MS,
    })) {
      await sleep(planned.gapMs, undefined, { signal: stopLoad.signal }).catch(() => {});
      if (stopLoad.signal.aborted) return;
      current = `${planned.kind}${planned.failpoint ? ` at ${planned.failpoint}` : ''}`;
      const done = await injector.inject(planned);
      current = undefined;
      faults.push(done);
      log(
        `fault ${done.index + 1} ${done.kind}: ${done.note} (${((done.endMs - done.startMs) / 1000).toFixed(1)} s)${done.happened ? '' : ' [did not happen]'}`,
      );
    }
  })();

  let last = { at: startMs, acked: 0 };
  let lastPrinted = 0;
  const everyMs = (options.progressEverySeconds ?? 10) * 1000;
  const onProgress = (stats: WorkloadStats) => {
    const now = Date.now();
    const reached =
      stats.written >= options.appends && (!options.everyFault || happenedKinds().size === options.kinds.length);
    const timeUp = options.seconds !== undefined && now - startMs >= options.seconds * 1000;
    if ((reached || timeUp) && !stopLoad.signal.aborted) {
      log(reached ? 'target reached, stopping the clients' : '--seconds reached, stopping the clients');
      stopLoad.abort();
    }
    if (now - lastPrinted < everyMs) return;
    lastPrinted = now;
    const rate = Math.round(((stats.written - last.acked) / Math.max(1, now - last.at)) * 1000);
    last = { at: now, acked: stats.written };
    log(progressLine(options, stats, faults, current, rate, now - startMs));
  };

  let stats: WorkloadStats | undefined;
  try {
    stats = await runWorkload({
      urls: services.clientUrls,
      apiKey: LOCAL_DEV_KEY,
      category: 'account',
      streams: options.streams,
      concurrency: options.clients,
      maxEventsPerAppend: 3,
      timeoutMs: 5_000,
      // Enough retries to ride out a broker restart or a full rebuild (503s with Retry-After).
      maxAttempts: 60,
      history,
      signal: stopLoad.signal,
      onProgress,
    });
  } catch (error) {
    log(`the load failed: ${(error as Error).message}`);
    throw error;
  } finally {
    stopLoad.abort();
    await chaos;
    watchdog.stop();
    if (stats === undefined) await services.stop();
  }
  const loadEndMs = Date.now();
  await history.close();
  log(progressLine(options, stats, faults, undefined, 0, loadEndMs - startMs));

  let check: SoakRecord['check'];
  let checkError: string | undefined;
  try {
    // Everything up again, so that whatever was left in flight is settled before the log is read.
    for (const p of services.processes()) if (!p.running) await p.start({}, 10 * 60_000);
    const kafka = createKafka({ KAFKA_BROKERS: services.kafka.brokers }, uniqueName('soak-check'), {
      logLevel: logLevel.NOTHING,
    });
    const engine = new ServerEngine(services.clickhouseUrl);
    try {
      const catalog = new ProjectionCatalog(engine, services.database, services.groupPrefix);
      const report = await runCheck({
        kafka,
        historyPath,
        topicPrefix: services.topicPrefix,
        checks: [readModelsCheck(catalog, { waitMs: options.catchUpMs ?? 15 * 60_000 })],
        onProgress: (line) => log(`check: ${line}`),
      });
      check = { summary: report.summary, violations: report.violations };
    } finally {
      await engine.close();
    }
  } catch (error) {
    checkError = (error as Error).message.split('\n')[0];
  } finally {
    await services.stop();
  }
  const summary = summarizeSoak({
    seed: options.seed,
    kinds: options.kinds,
    startMs,
    loadEndMs,
    endMs: Date.now(),
    appends: {
      acknowledged: stats.written,
      logical: stats.appends,
      attempts: stats.attempts,
      conflicts: stats.conflicts,
      unknown: stats.unknown,
      rejected: stats.rejected,
    },
    faults,
    okTimesMs: history.okTimesMs,
    rebuilds,
    watchdogRestarts: Object.fromEntries(watchdog.restarts),
    check,
    ...(checkError === undefined ? {} : { checkError }),
  });
  return { summary, historyPath };
}

function progressLine(
  options: SoakOptions,
  stats: WorkloadStats,
  faults: readonly InjectedFault[],
  current: string | undefined,
  rate: number,
  elapsedMs: number,
): string {
  const s = Math.floor(elapsedMs / 1000);
  const clock = `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
  const byKind = new Map<string, number>();
  for (const f of faults) if (f.happened) byKind.set(f.kind, (byKind.get(f.kind) ?? 0) + 1);
  const average = Math.round((stats.written / Math.max(1, elapsedMs)) * 1000);
  const pct = ((stats.written / options.appends) * 100).toFixed(1);
  return (
    `[${clock}] acknowledged ${stats.written.toLocaleString('en-US')} of ${options.appends.toLocaleString('en-US')} (${pct}%), ` +
    `${rate}/s now, ${average}/s average; attempts ${stats.attempts}, conflicts ${stats.conflicts}, unknown ${stats.unknown}; ` +
    `faults ${faults.filter((f) => f.happened).length} (${[...byKind].map(([k, n]) => `${k} ${n}`).join(', ') || 'none yet'})` +
    (current ? `; now: ${current}` : '')
  );
}

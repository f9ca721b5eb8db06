import { join } from 'node:path';
import { LOCAL_DEV_KEY } from '../../pipeline/config/config.js';
import { ProjectorMetrics } from '../../projectors/metrics.js';
import { qualified } from '../../projectors/readModels/projection.js';
import { ProjectorService } from '../../projectors/run/projectorService.js';
import { HttpLoadClient, type LoadAttempt } from '../../verify/load/httpLoad.js';
import { closedLoop, wallClock } from '../support/closedLoop.js';
import { CpuMeter } from '../support/cpuMeter.js';
import { formatNumber } from '../support/figures.js';
import { startGuardProcess, stopGuard, waitReady } from '../support/guardProcesses.js';
import { percentile, sortedCopy } from '../support/latency.js';
import { openLoop } from '../support/openLoop.js';
import { quietBefore } from '../support/quiet.js';
import { errorText, progress, ROOT, sleep } from '../support/run.js';
import { LoadStreams } from './loadStreams.js';
import { cpuLine, phaseCpu } from './phaseCpu.js';
import { type FreshnessLoad, PROJECTION, type ProjectorRun } from './projectorRun.js';

const fmt = (n: number | undefined, digits = 0) => formatNumber(n, digits);

/** The guard's closed-loop peak: `clients` appending as fast as they are answered. */
async function peakOf(client: HttpLoadClient, streams: LoadStreams, clients: number, durationMs: number) {
  let ok = 0;
  const latencies: number[] = [];
  const ms = await closedLoop({
    workers: clients,
    op: () => streams.append(client),
    record: (a: LoadAttempt, latency) => {
      if (a.outcome.status !== 'ok') return;
      ok += 1;
      latencies.push(latency);
    },
    warmupMs: 3_000,
    durationMs,
    window: wallClock,
  });
  return { appendsPerSecond: ok / (ms / 1000), p99Ms: percentile(sortedCopy(latencies), 99) };
}

/** Appends due on a fixed schedule (k / rate), at most `pool` in flight; latency from the due time. */
async function openLoad(
  client: HttpLoadClient,
  streams: LoadStreams,
  rate: number,
  pool: number,
  warmupMs: number,
  durationMs: number,
): Promise<FreshnessLoad> {
  let ok = 0;
  let failed = 0;
  const latencies: number[] = [];
  const figures = await openLoop({
    rate,
    pool,
    warmupMs,
    durationMs,
    op: () => streams.append(client),
    done: (a: LoadAttempt, latency, measured) => {
      if (!measured) return;
      if (a.outcome.status === 'ok') {
        ok += 1;
        latencies.push(latency);
      } else if (a.outcome.status !== 'conflict') failed += 1;
    },
  });
  const sorted = sortedCopy(latencies);
  return {
    rate,
    appendsPerSecond: ok / (durationMs / 1000),
    scheduled: figures.scheduled,
    ok,
    failed,
    poolWaits: figures.poolWaits,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    windowFromMs: figures.windowFromMs,
    windowToMs: figures.windowToMs,
  };
}

/**
 * Phase freshness: a guard, a ProjectorService, an open-loop guarded load at half the guard's peak (or --rate);
 * freshness per event = projected_at − time in the events view, over the events appended in the measured window.
 */
export async function freshnessPhase(run: ProjectorRun): Promise<void> {
  const { options, freshConfig, category } = run;
  progress('freshness: a guard, a projector service, an open-loop guarded load');
  const guard = await startGuardProcess({
    name: 'the guard',
    root: ROOT,
    logPath: join(run.runDir, 'guard.log'),
    env: {
      ...process.env,
      KES_TOPIC_PREFIX: freshConfig.KES_TOPIC_PREFIX,
      KES_REDIS_PREFIX: freshConfig.KES_REDIS_PREFIX,
      KES_TOPIC_PARTITIONS: String(options.partitions),
      KES_LOG_LEVEL: process.env.KES_LOG_LEVEL ?? 'warn',
    },
  });
  run.closers.push(() => stopGuard(guard, progress).catch(() => {}));
  if (guard.child.pid !== undefined) run.accounted.push({ name: 'guard', pid: guard.child.pid });
  const client = new HttpLoadClient({ url: guard.url, apiKey: LOCAL_DEV_KEY, maxSockets: options.pool + 8 });
  run.closers.push(() => client.close());
  await waitReady(guard, client, 120_000);
  const streams = new LoadStreams(category, options.streams);
  const first = await streams.append(client);
  if (first.outcome.status !== 'ok') throw new Error(`first append failed: ${JSON.stringify(first.outcome)}`);
  progress(`  guard ready at ${guard.url} (pid ${guard.child.pid})`);

  let peak: { appendsPerSecond: number; p99Ms: number } | undefined;
  if (options.rate === undefined) {
    peak = await peakOf(client, streams, options.peakClients, options.peakSeconds * 1000);
    progress(
      `  guard peak: ${fmt(peak.appendsPerSecond)} appends/s at ${options.peakClients} closed-loop clients (p99 ${fmt(peak.p99Ms, 1)} ms)`,
    );
  }
  const rate = options.rate ?? (peak?.appendsPerSecond ?? 0) / 2;

  const { engine } = await run.engine();
  const service = new ProjectorService({
    settings: freshConfig,
    kafka: run.kafka,
    engine,
    projections: [PROJECTION],
    metrics: new ProjectorMetrics(),
    log: (line) => progress(`  ${line}`),
    onFatal: (error) => progress(`  projector service stopped: ${errorText(error)}`),
  });
  run.closers.push(() => service.stop().catch(() => {}));
  run.databases.push(freshConfig.KES_CLICKHOUSE_DATABASE);
  await service.start();
  const freshGroup = service.runtime()[0]?.group;
  if (freshGroup) run.groups.push(freshGroup);
  const eventsView = qualified(freshConfig.KES_CLICKHOUSE_DATABASE, 'events');
  const caughtUp = async (expected: number, timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const [row] = await engine.query<{ n: number | string }>(`SELECT count() AS n FROM ${eventsView}`);
      const n = Number(row?.n ?? Number.NaN);
      if (n >= expected) return n;
      if (Date.now() > deadline) throw new Error(`the projector has ${n} of ${expected} events after ${timeoutMs} ms`);
      await sleep(200);
    }
  };
  await caughtUp(streams.ok, 120_000);
  progress(`  projector service caught up (${fmt(streams.ok)} events so far); load at ${fmt(rate)} appends/s`);

  const idleBefore = await quietBefore(options);
  const cpu0 = run.cpu.snapshot();
  const load = await openLoad(
    client,
    streams,
    rate,
    options.pool,
    options.warmupSeconds * 1000,
    options.freshnessSeconds * 1000,
  );
  const cpu = phaseCpu(CpuMeter.between(cpu0, run.cpu.snapshot()));
  await caughtUp(streams.ok, 120_000);
  const [q] = await engine.query<{ n: number | string; q: number[]; mx: number | string; mean: number | string }>(
    `SELECT count() AS n, quantilesExact(0.5, 0.99)(ms) AS q, max(ms) AS mx, avg(ms) AS mean FROM (
       SELECT toUnixTimestamp64Milli(projected_at) - toUnixTimestamp64Milli(time) AS ms FROM ${eventsView}
       WHERE category = {category:String}
         AND toUnixTimestamp64Milli(time) >= {from:Int64} AND toUnixTimestamp64Milli(time) < {to:Int64})`,
    { category, from: load.windowFromMs, to: load.windowToMs },
  );
  const fresh = {
    peakAppendsPerSecond: peak?.appendsPerSecond,
    peakP99Ms: peak?.p99Ms,
    load,
    events: Number(q?.n ?? 0),
    p50Ms: Number(q?.q[0]),
    p99Ms: Number(q?.q[1]),
    maxMs: Number(q?.mx),
    meanMs: Number(q?.mean),
    cpu,
    idleBefore,
  };
  run.freshness = fresh;
  progress(
    `  ${fmt(load.appendsPerSecond)} appends/s for ${options.freshnessSeconds} s (append p99 ${fmt(load.p99Ms, 1)} ms, ` +
      `${fmt(load.poolWaits)} pool waits); freshness of ${fmt(fresh.events)} events: p50 ${fmt(fresh.p50Ms)} ms, ` +
      `p99 ${fmt(fresh.p99Ms)} ms, max ${fmt(fresh.maxMs)} ms; ${cpuLine(cpu)}`,
  );
}

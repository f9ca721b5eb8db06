import { join } from 'node:path';
import { LoadStreams } from '../../bench/projector/loadStreams.js';
import { PROJECTION } from '../../bench/projector/projectorRun.js';
import { startGuardProcess, stopGuard, waitReady } from '../../bench/support/guardProcesses.js';
import { summarize } from '../../bench/support/latency.js';
import { openLoop } from '../../bench/support/openLoop.js';
import { errorText, sleep } from '../../bench/support/run.js';
import type { ClickHouseEngine } from '../../pipeline/clickhouse/engine.js';
import { LOCAL_DEV_KEY } from '../../pipeline/config/config.js';
import { ProjectorMetrics } from '../../projectors/metrics.js';
import { qualified } from '../../projectors/readModels/projection.js';
import { ProjectorService } from '../../projectors/run/projectorService.js';
import { HttpLoadClient, type LoadAttempt } from '../../verify/load/httpLoad.js';
import type { LabProgress } from '../core/experiment.js';
import type { LabSpace } from './labSpace.js';

export interface FreshnessFigures {
  /** Appends/s asked for. */
  rate: number;
  /** Appends/s committed inside the measured window (events whose kes-time falls in it): what the guard kept up with. */
  achieved: number;
  /** Appends due in the window that failed (conflicts aside) or found every slot of the pool busy. */
  failed: number;
  poolWaits: number;
  appendP50Ms: number;
  appendP99Ms: number;
  /** Events appended in the measured window and found in the events view. */
  events: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** In-flight appends at most: a guard slower than the rate queues appends here rather than without bound. */
const POOL = 256;
/** Streams of the load: many, so that conflicts (two appends to one stream at once) stay rare. */
const STREAMS = 10_000;

/** Waits until the events view holds `expected` events (the projector caught up with every ok append). */
async function caughtUp(engine: ClickHouseEngine, view: string, expected: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [row] = await engine.query<{ n: number | string }>(`SELECT count() AS n FROM ${view}`);
    const n = Number(row?.n ?? Number.NaN);
    if (n >= expected) return;
    if (Date.now() > deadline) throw new Error(`the projector has ${n} of ${expected} events after ${timeoutMs} ms`);
    await sleep(100);
  }
}

/** The guard the freshness load appends through, started early: its start-up overlaps the pre-load. */
export interface LoadGuard {
  client: HttpLoadClient;
  /** Resolves once the guard answers ready; rejects if it exits first. */
  ready: Promise<void>;
  stop(): Promise<void>;
}

/** Starts a guard process on the freshness part's topics and Redis keys. */
export async function startLoadGuard(args: { space: LabSpace; root: string; runDir: string }): Promise<LoadGuard> {
  const config = args.space.configFor('fresh');
  const guard = await startGuardProcess({
    name: 'the guard',
    root: args.root,
    logPath: join(args.runDir, 'guard.log'),
    env: {
      ...process.env,
      KES_TOPIC_PREFIX: config.KES_TOPIC_PREFIX,
      KES_REDIS_PREFIX: config.KES_REDIS_PREFIX,
      KES_TOPIC_PARTITIONS: String(config.KES_TOPIC_PARTITIONS),
      KES_LOG_LEVEL: 'warn',
    },
  });
  const client = new HttpLoadClient({ url: guard.url, apiKey: LOCAL_DEV_KEY, maxSockets: POOL + 8 });
  const ready = waitReady(guard, client, 120_000);
  // Awaited by measureFreshness; until then a failure must not surface as an unhandled rejection.
  ready.catch(() => {});
  return {
    client,
    ready,
    stop: async () => {
      client.close();
      await stopGuard(guard, () => {}).catch(() => {});
    },
  };
}

/**
 * Part 2: the guard, one ProjectorService, and an open-loop guarded load at each rate in turn (a warm-up, then
 * the measured window). Freshness of an event = projected_at − time in the events view: ClickHouse's clock at the
 * insert minus the kes-time the guard stamped at the commit (bench:projector's freshness phase).
 */
export async function measureFreshness(args: {
  space: LabSpace;
  guard: LoadGuard;
  rates: readonly number[];
  loadSeconds: number;
  progress: LabProgress;
  stepBase: number;
  stepTotal: number;
}): Promise<{ figures: FreshnessFigures[]; batchMs: number }> {
  const { space } = args;
  const config = space.configFor('fresh');
  const { client } = args.guard;
  args.progress.step(
    'waiting for the guard, starting a projector for the freshness load',
    args.stepBase,
    args.stepTotal,
  );
  let service: ProjectorService | undefined;
  try {
    await args.guard.ready;
    const streams = new LoadStreams(space.category, STREAMS);
    // The first append creates the category topic, which the projector then subscribes to.
    const first = await streams.append(client);
    if (first.outcome.status !== 'ok') throw new Error(`first append failed: ${JSON.stringify(first.outcome)}`);
    const engine = await space.engine();
    service = new ProjectorService({
      settings: config,
      kafka: space.kafka,
      engine,
      projections: [PROJECTION],
      metrics: new ProjectorMetrics(),
      log: (line) => args.progress.note(line),
      onFatal: (error) => args.progress.note(`projector service stopped: ${errorText(error)}`),
    });
    await service.start();
    const view = qualified(config.KES_CLICKHOUSE_DATABASE, 'events');
    await caughtUp(engine, view, streams.ok, 120_000);

    const figures: FreshnessFigures[] = [];
    for (const [i, rate] of args.rates.entries()) {
      args.progress.step(`${rate} appends/s for ${args.loadSeconds} s`, args.stepBase + 1 + i, args.stepTotal);
      const latencies: number[] = [];
      let failed = 0;
      const window = await openLoop({
        rate,
        pool: POOL,
        warmupMs: Math.min(2_000, args.loadSeconds * 250),
        durationMs: args.loadSeconds * 1000,
        op: () => streams.append(client),
        done: (a: LoadAttempt, latency, measured) => {
          if (!measured) return;
          if (a.outcome.status === 'ok') latencies.push(latency);
          else if (a.outcome.status !== 'conflict') failed += 1;
        },
      });
      await caughtUp(engine, view, streams.ok, 120_000);
      const [q] = await engine.query<{ n: number | string; q: number[]; mx: number | string }>(
        `SELECT count() AS n, quantilesExact(0.5, 0.99)(ms) AS q, max(ms) AS mx FROM (
           SELECT toUnixTimestamp64Milli(projected_at) - toUnixTimestamp64Milli(time) AS ms FROM ${view}
           WHERE category = {category:String}
             AND toUnixTimestamp64Milli(time) >= {from:Int64} AND toUnixTimestamp64Milli(time) < {to:Int64})`,
        { category: space.category, from: window.windowFromMs, to: window.windowToMs },
      );
      const appends = summarize(latencies);
      const f: FreshnessFigures = {
        rate,
        achieved: Number(q?.n ?? 0) / args.loadSeconds,
        failed,
        poolWaits: window.poolWaits,
        appendP50Ms: appends.p50,
        appendP99Ms: appends.p99,
        events: Number(q?.n ?? 0),
        p50Ms: Number(q?.q[0]),
        p99Ms: Number(q?.q[1]),
        maxMs: Number(q?.mx),
      };
      figures.push(f);
      args.progress.note(
        `${rate} appends/s asked, ${Math.round(f.achieved)}/s committed (append p99 ${Math.round(f.appendP99Ms)} ms): ` +
          `freshness of ${f.events} events p50 ${Math.round(f.p50Ms)} ms, p99 ${Math.round(f.p99Ms)} ms`,
      );
    }
    return { figures, batchMs: config.KES_PROJECTOR_BATCH_MS };
  } finally {
    await service?.stop().catch(() => {});
  }
}

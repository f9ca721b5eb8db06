import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout } from 'node:timers/promises';
import { logLevel } from 'kafkajs';
import { LOCAL_DEV_KEY } from '../../pipeline/config/config.js';
import { createKafka } from '../../pipeline/kafka/kafkaClient.js';
import { HistoryWriter } from '../../verify/history/history.js';
import { type CheckReport, runCheck } from '../../verify/history/report.js';
import { mergeStats, runWorkload, type WorkloadOptions, type WorkloadStats } from '../../verify/load/workload.js';
import { freePort } from './freePort.js';
import { GuardProcess } from './guardProcess.js';
import { uniqueName } from './names.js';
import { stack } from './stack.js';

/**
 * One fault scenario: several guard processes on the same streams, a workload of concurrent clients logging every
 * attempt, a fault injector running beside it, and at the end the history checker over the log and the committed
 * topics. The suite runs each scenario briefly; `KES_FAULT_SECONDS` (scripts/guard-faults.sh) makes it longer.
 */
export interface ScenarioOptions {
  guards: number;
  /** Extra env for every guard process (settings, failpoints). */
  env?: Record<string, string>;
  /** Where clients send a guard's requests (a proxy in front of it); default the guard itself. */
  clientUrl?: (guardUrl: string) => Promise<string>;
  /** Guards (by index) the scenario does not start: the chaos function starts them when it wants. */
  startLater?: number[];
  /** Extra env per guard (by index). */
  guardEnv?: (index: number) => Record<string, string>;
  /** Addresses of the services, when the scenario brings its own Redis or Kafka. */
  redisUrl?: string;
  kafkaBrokers?: string[];
  workload?: Partial<Omit<WorkloadOptions, 'urls' | 'apiKey' | 'history'>>;
  /**
   * Writers beside the workload's that send through the coalescing client, every other append an atomic batch of
   * `atomic` streams, on the same streams and into the same history, so that every fault meets single appends,
   * batches and atomic batches alike. `false`: single appends only. @default { concurrency: 6, atomic: 3 }
   */
  batched?: { concurrency: number; atomic: number } | false;
  /** Seconds of load (default KES_FAULT_SECONDS or `defaultSeconds`). */
  defaultSeconds?: number;
  /**
   * The load runs its seconds and then on until this many appends have been answered as written, for at most
   * `MAX_LOAD_FACTOR` times its seconds: a scenario asks for progress, not for a speed that a busy 2-core machine
   * (the whole suite beside it) may not have.
   */
  minWritten?: number;
  /**
   * The load runs until the chaos function resolves (at most 10 minutes), not for the scenario's seconds: for faults
   * whose length the machine decides (a JVM restarted under load), so that every fault is met by load before and
   * after it. The chaos function ends with the stretch of load it wants after its last fault.
   */
  loadUntilChaosEnds?: boolean;
  /** Injects faults while the load runs; resolves when it has nothing more to do. Gets an abort signal. */
  chaos?: (scenario: Scenario, signal: AbortSignal) => Promise<void>;
}

export interface Scenario {
  namespace: string;
  topicPrefix: string;
  guards: GuardProcess[];
  env: Record<string, string>;
  /** Appends answered as written so far, over both workloads (updated once a second): what a chaos script waits on. */
  written: () => number;
}

export interface ScenarioResult {
  scenario: Scenario;
  stats: WorkloadStats;
  report: CheckReport;
  /** Prometheus text of every guard at the end (counters restart with a process). */
  metrics: string[];
  /** Every attempt the clients made (JSONL), for figures beyond the checker's (stalls around a fault). */
  historyPath: string;
}

/** Sum of a metric (name with labels, as printed) over the guards' last /metrics. */
export function sumMetric(result: ScenarioResult, name: string): number {
  let total = 0;
  for (const text of result.metrics) {
    for (const line of text.split('\n')) if (line.startsWith(`${name} `)) total += Number(line.split(' ').pop());
  }
  return total;
}

export function faultSeconds(defaultSeconds: number): number {
  const value = Number(process.env.KES_FAULT_SECONDS);
  return Number.isFinite(value) && value > 0 ? value : defaultSeconds;
}

export async function runScenario(options: ScenarioOptions): Promise<ScenarioResult> {
  const namespace = uniqueName('f');
  const topicPrefix = `${namespace}.`;
  const addresses = stack();
  const kafkaBrokers = options.kafkaBrokers ?? addresses.kafkaBrokers;
  const env: Record<string, string> = {
    KAFKA_BROKERS: kafkaBrokers.join(','),
    SCHEMA_REGISTRY_URL: addresses.schemaRegistryUrl,
    REDIS_URL: options.redisUrl ?? addresses.redisUrl,
    KES_REDIS_PREFIX: `${namespace}:`,
    KES_TOPIC_PREFIX: topicPrefix,
    KES_TOPIC_PARTITIONS: '4',
    KES_SCHEMAS_DIR: join(process.cwd(), 'schemas'),
    KES_GUARD_RESERVATION_MS: '2000',
    KES_GUARD_LEASE_MS: '3000',
    ...options.env,
  };
  const guards: GuardProcess[] = [];
  for (let i = 0; i < options.guards; i++) {
    guards.push(new GuardProcess(`guard-${i}`, await freePort(), { ...env, ...options.guardEnv?.(i) }));
  }
  // Each workload's latest figures (onProgress, once a second), so a chaos script can see writes resume.
  const progress = { single: 0, batched: 0 };
  const scenario: Scenario = { namespace, topicPrefix, guards, env, written: () => progress.single + progress.batched };
  const historyPath = join(mkdtempSync(join(tmpdir(), 'kes-faults-')), 'history.jsonl');
  const history = new HistoryWriter(historyPath);
  const seconds = faultSeconds(options.defaultSeconds ?? 15);
  const abort = new AbortController();
  let loadUntil: ReturnType<typeof untilWritten> | undefined;
  try {
    await Promise.all(guards.filter((_, i) => !options.startLater?.includes(i)).map((g) => g.start()));
    const chaos = options.chaos?.(scenario, abort.signal) ?? Promise.resolve();
    const chaosEnds = options.loadUntilChaosEnds ? new AbortController() : undefined;
    if (chaosEnds) void chaos.finally(() => chaosEnds.abort()).catch(() => {});
    if (options.minWritten !== undefined) loadUntil = untilWritten(scenario, seconds, options.minWritten);
    const base: WorkloadOptions = {
      urls: await Promise.all(guards.map((g) => options.clientUrl?.(g.url) ?? g.url)),
      apiKey: LOCAL_DEV_KEY,
      category: 'account',
      streams: 40,
      concurrency: 24,
      maxEventsPerAppend: 3,
      timeoutMs: 5_000,
      maxAttempts: 30,
      durationMs: seconds * 1000,
      history,
      ...(loadUntil ? { durationMs: seconds * 1000 * MAX_LOAD_FACTOR, signal: loadUntil.signal } : {}),
      ...(chaosEnds ? { durationMs: 600_000, signal: chaosEnds.signal } : {}),
      ...options.workload,
      onProgress: (stats) => {
        progress.single = stats.written;
        options.workload?.onProgress?.(stats);
      },
    };
    const batched = options.batched ?? { concurrency: 6, atomic: 3 };
    const [single, batches] = await Promise.all([
      runWorkload(base),
      batched === false
        ? undefined
        : runWorkload({
            ...base,
            concurrency: batched.concurrency,
            batch: {},
            atomic: batched.atomic,
            clientPrefix: 'b',
            onProgress: (stats) => {
              progress.batched = stats.written;
            },
            // Half of them "any": an atomic batch of exact versions on streams the other writers race on is
            // mostly refused, and the faults should meet batches that write too.
            anyShare: 0.5,
            // Its share of a limit on logical appends, if the scenario sets one.
            ...(base.appends === undefined ? {} : { appends: Math.ceil(base.appends / 4) }),
          }),
    ]);
    loadUntil?.stop();
    const stats = batches ? mergeStats(single, batches) : single;
    const loadEnded = Date.now();
    abort.abort();
    await chaos;
    const chaosEnded = Date.now();
    await history.close();
    // Every guard up again, so that whatever was left in flight is settled before the log is read.
    for (const g of guards) if (!g.running) await g.start();
    process.stderr.write(`chaos stop ${chaosEnded - loadEnded} ms, restarts ${Date.now() - chaosEnded} ms\n`);
    const kafka = createKafka({ KAFKA_BROKERS: kafkaBrokers }, uniqueName('check'), { logLevel: logLevel.NOTHING });
    const checkStarted = Date.now();
    const report = await runCheck({ kafka, historyPath, topicPrefix });
    process.stderr.write(
      `scenario ${namespace}: load ${stats.elapsedMs} ms, settle ${checkStarted - loadEnded} ms, check ${Date.now() - checkStarted} ms\n`,
    );
    const metrics = await Promise.all(
      guards.map(async (g) => (await fetch(`${g.url}/metrics`).catch(() => undefined))?.text() ?? ''),
    );
    return { scenario, stats, report, metrics, historyPath };
  } finally {
    abort.abort();
    loadUntil?.stop();
    if (process.env.KES_FAULT_VERBOSE) {
      for (const g of guards)
        process.stderr.write(`--- ${g.name} ---\n${g.tail(Number(process.env.KES_FAULT_VERBOSE) || 60)}\n`);
    }
    await Promise.all(guards.map((g) => g.stop().catch(() => {})));
  }
}

const MAX_LOAD_FACTOR = 4;

/** A signal that stops the load once it has run `seconds` and `minWritten` appends are written. */
function untilWritten(scenario: Scenario, seconds: number, minWritten: number) {
  const done = new AbortController();
  const started = Date.now();
  const timer = setInterval(() => {
    if (Date.now() - started >= seconds * 1000 && scenario.written() >= minWritten) done.abort();
  }, 100);
  return {
    signal: done.signal,
    stop: () => clearInterval(timer),
  };
}

/** Restarts guards that died (a failpoint killed them), after a short random pause, until the signal. */
export async function keepRestarting(guards: GuardProcess[], signal: AbortSignal): Promise<void> {
  while (!signal.aborted) {
    for (const g of guards) {
      if (!g.running && !signal.aborted) {
        await sleep(Math.random() * 300);
        await g.start().catch(() => {});
      }
    }
    await sleep(50);
  }
}

/**
 * Resolves after `ms`, or at once when the signal aborts during the pause; it never rejects, so a chaos script goes
 * on to its next fault. A pause that starts after the abort runs its full length, so the faults a script still
 * injects after the load has ended stay spaced out.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return setTimeout(ms, undefined, signal?.aborted ? {} : { signal }).catch(() => {});
}

export function describeResult(r: ScenarioResult): string {
  const s = r.stats;
  return (
    `${(s.elapsedMs / 1000).toFixed(1)} s of load: ${s.appends} appends (${s.written} written, ${s.duplicates} answered from a first write, ` +
    `${s.atomicBatches} atomic batches of which ${s.atomicWritten} written, ` +
    `${s.conflicts} conflicts, ${s.rejected} rejected, ${s.unknown} unknown), ${s.attempts} attempts; ` +
    `guard starts ${r.scenario.guards.map((g) => g.starts).join('/')} (ms to ready: ${r.scenario.guards.flatMap((g) => g.startMs).join(',')}); ` +
    `checker: ${r.report.summary.committedEvents} committed events, ${r.report.violations.length} violations`
  );
}

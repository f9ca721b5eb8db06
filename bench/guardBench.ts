/**
 * `npm run bench:guard` (docs/guard-benchmark.md): guarded appends/s and latency against the raw Kafka ceiling, the
 * HTTP floor, and the latency at half the peak in an open loop; then appends through the coalescing client and in
 * atomic batches (issue 13). Phases: guarded, http-floor, raw-kafka, open-loop, batched, atomic.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { logLevel } from 'kafkajs';
import { type KesConfig, LOCAL_DEV_KEY, loadConfig } from '../pipeline/config/config.js';
import { createKafka } from '../pipeline/kafka/kafkaClient.js';
import { createRedis } from '../pipeline/redis/redisClient.js';
import { HistoryWriter } from '../verify/history/history.js';
import { type CheckReport, runCheck } from '../verify/history/report.js';
import { HttpLoadClient } from '../verify/load/httpLoad.js';
import { atomicPhase, batchedPhase } from './guard/batchedPhases.js';
import type { GuardRun } from './guard/guardRun.js';
import { bestOf } from './guard/guardRun.js';
import { httpFloorPhase } from './guard/httpFloorPhase.js';
import { attemptDone, CATEGORY, guardedClosedLoop, guardedOpenLoop, type LoadContext, Streams } from './guard/load.js';
import { parseFlags } from './guard/options.js';
import { rawKafkaPhase } from './guard/rawCeiling.js';
import { printReport } from './guard/report.js';
import { singleAppendPhase } from './guard/singleAppend.js';
import { cleanUpRun } from './support/cleanUp.js';
import { type Accounted, CpuMeter } from './support/cpuMeter.js';
import { formatNumber } from './support/figures.js';
import { type GuardProcess, startGuardProcess, stopGuard, waitReady } from './support/guardProcesses.js';
import { partitionCount } from './support/kafkaAdmin.js';
import { machine, stackPids } from './support/machine.js';
import { choosePhases, type Phase, runPhases } from './support/phases.js';
import { leastDisturbed } from './support/quiet.js';
import { settingsLine } from './support/report.js';
import { newRunId, progress, ROOT, runMain } from './support/run.js';

/** Where the code a guard runs lives: a change there shows in the figures' `code`. */
const CODE_DIRS = ['guard', 'pipeline', 'bin'];
const RAW_CATEGORY = 'rawaccount';
const fmt = (n: number | undefined, digits = 1) => formatNumber(n, digits);

const phases: Phase<GuardRun>[] = [
  {
    name: 'guarded',
    run: async (run) => {
      const { options } = run;
      for (const c of options.clients) {
        progress(
          `guarded, ${c} closed-loop client(s): ${options.warmupMs / 1000} s warm-up, ${options.durationMs / 1000} s measured`,
        );
        const r = await run.measure(
          'the phase',
          () => guardedClosedLoop(run.ctx, c, options.warmupMs, options.durationMs),
          (x) => x.window.cpu,
        );
        run.guarded.push(r);
        progress(
          `  ${fmt(r.appendsPerSecond, 0)} appends/s, p50 ${fmt(r.latency.p50)} ms, p99 ${fmt(r.latency.p99)} ms, ` +
            `group commit ${fmt(r.window.guard.meanGroupCommit)}, cpu ${JSON.stringify(r.window.cpu)}`,
        );
      }
    },
  },
  { name: 'http-floor', run: httpFloorPhase },
  { name: 'raw-kafka', run: rawKafkaPhase },
  {
    name: 'open-loop',
    run: async (run) => {
      const { options } = run;
      const best = bestOf(run);
      const rate = options.openRate ?? (best ? best.appendsPerSecond / 2 : 0);
      if (rate <= 0) {
        progress('  no rate for the open loop: no guarded phase ran and no --open-rate');
        return;
      }
      progress(
        `open loop at ${fmt(rate, 0)} appends/s (${options.openRate === undefined ? `half of the best ${fmt(best?.appendsPerSecond, 0)}` : '--open-rate'}), pool ${options.pool}`,
      );
      const half = await run.measure(
        'the phase',
        () => guardedOpenLoop(run.ctx, rate, options.pool, options.warmupMs, options.durationMs),
        (x) => x.window.cpu,
      );
      run.half = half;
      progress(
        `  ${fmt(half.appendsPerSecond, 0)} appends/s, p50 ${fmt(half.latency.p50)} ms, p99 ${fmt(half.latency.p99)} ms, max ${fmt(half.latency.max)} ms, cpu ${JSON.stringify(half.window.cpu)}`,
      );
    },
  },
  { name: 'batched', run: batchedPhase },
  { name: 'atomic', run: atomicPhase },
  { name: 'single', run: singleAppendPhase },
];

function guardSettingsOf(config: KesConfig, guards: number): Record<string, string | number> {
  return {
    guards,
    KES_GUARD_PIPELINE: config.KES_GUARD_PIPELINE,
    KES_GUARD_LINGER_MS: config.KES_GUARD_LINGER_MS,
    KES_GUARD_MAX_BATCH_EVENTS: config.KES_GUARD_MAX_BATCH_EVENTS,
    KES_GUARD_SLOTS: config.KES_GUARD_SLOTS,
    KES_GUARD_RESERVATION_MS: config.KES_GUARD_RESERVATION_MS,
    KES_IDEMPOTENCY_WINDOW_S: config.KES_IDEMPOTENCY_WINDOW_S,
    KES_TOPIC_PARTITIONS: config.KES_TOPIC_PARTITIONS,
    KES_TOPIC_REPLICATION: config.KES_TOPIC_REPLICATION,
    KES_REDIS_PREFIX: config.KES_REDIS_PREFIX,
    KES_TOPIC_PREFIX: config.KES_TOPIC_PREFIX,
  };
}

async function main(): Promise<number> {
  const options = parseFlags(process.argv);
  const chosen = choosePhases(phases, options.phases, options.skipped);
  const id = newRunId();
  const namespace = `bench_${id}`;
  const redisPrefix = `${namespace}:`;
  const topicPrefix = `${namespace}.`;
  const config = loadConfig({ overrides: { KES_REDIS_PREFIX: redisPrefix, KES_TOPIC_PREFIX: topicPrefix } });
  const runDir = join(config.KES_HOME, 'bench', `guard-${id}`);
  mkdirSync(runDir, { recursive: true });
  const settings = guardSettingsOf(config, options.guards);
  const slotsNeeded = options.guards * config.KES_GUARD_PIPELINE;
  if (slotsNeeded > config.KES_GUARD_SLOTS) {
    throw new Error(
      `${options.guards} guard(s) × KES_GUARD_PIPELINE ${config.KES_GUARD_PIPELINE} writers need ${slotsNeeded} slots; KES_GUARD_SLOTS is ${config.KES_GUARD_SLOTS}`,
    );
  }
  progress(`run ${id}: logs, history and profiles in ${runDir}`);
  progress(settingsLine(settings));

  const kafka = createKafka(config, `kes-bench-${id}`, { logLevel: logLevel.NOTHING });
  const redis = createRedis(config, { maxRetriesPerRequest: 1 });
  redis.on('error', () => {}); // a failing command says what went wrong
  const stack = stackPids(ROOT);
  const guards: GuardProcess[] = [];
  const clients: HttpLoadClient[] = [];
  const history = options.check ? new HistoryWriter(join(runDir, 'history.jsonl')) : undefined;
  const extraProcesses: Accounted[] = [];
  const cpu = new CpuMeter(() => [
    ...guards.flatMap((g) => (g.child.pid === undefined ? [] : [{ name: 'guard', pid: g.child.pid }])),
    ...extraProcesses,
    ...stack.filter((s) => ['kafka', 'redis', 'registry', 'clickhouse'].includes(s.name)),
  ]);
  const guardTopic = `${topicPrefix}${CATEGORY}`;
  let exitCode = 0;

  try {
    // the guards, on our prefixes
    const guardEnv: NodeJS.ProcessEnv = {
      ...process.env,
      KES_REDIS_PREFIX: redisPrefix,
      KES_TOPIC_PREFIX: topicPrefix,
      KES_LOG_LEVEL: process.env.KES_LOG_LEVEL ?? 'warn',
    };
    for (let i = 0; i < options.guards; i++) {
      guards.push(
        await startGuardProcess({
          name: `guard ${i}`,
          root: ROOT,
          env: guardEnv,
          logPath: join(runDir, `guard-${i}.log`),
          profileDir: options.profile ? join(runDir, 'profiles') : undefined,
        }),
      );
    }
    const maxSockets = Math.max(...options.clients, options.pool) + 8;
    for (const g of guards) clients.push(new HttpLoadClient({ url: g.url, apiKey: LOCAL_DEV_KEY, maxSockets }));
    await Promise.all(guards.map((g, i) => waitReady(g, clients[i] as HttpLoadClient, 120_000)));
    progress(`${guards.length} guard(s) ready: ${guards.map((g) => `${g.url} (pid ${g.child.pid})`).join(', ')}`);

    // the category topic, created by a first append
    const streams = new Streams(options.streams);
    const ctx: LoadContext = { clients, streams, history, cpu, redis };
    const first = await (clients[0] as HttpLoadClient).append(`${CATEGORY}-bench_init`, 'no_stream', [streams.event()]);
    attemptDone(ctx, 'init', first);
    if (first.outcome.status !== 'ok') throw new Error(`first append failed: ${JSON.stringify(first.outcome)}`);
    const partitions = await partitionCount(kafka, guardTopic);
    progress(`topic ${guardTopic}: ${partitions} partitions`);

    const run: GuardRun = {
      id,
      options,
      config,
      kafka,
      ctx,
      guardUrls: guards.map((g) => g.url),
      partitions,
      rawTopic: `${topicPrefix}${RAW_CATEGORY}`,
      extraProcesses,
      measure: async (label, measureOnce, cpuOf) => {
        const kept = await leastDisturbed(options, label, measureOnce, (r) => cpuOf(r).others ?? 0);
        return Object.assign(kept.result, { idleBefore: kept.idleBefore, attempts: kept.attempt });
      },
      guarded: [],
      raw: [],
      batched: [],
    };
    await runPhases(chosen, run);

    // stop the guards, then check the history against the log
    for (const c of clients) c.close();
    progress('stopping the guard(s) (SIGTERM)');
    await Promise.all(guards.map((g) => stopGuard(g, progress)));
    let check: CheckReport | undefined;
    if (history) {
      await history.close();
      progress(`checking ${history.path} against ${guardTopic}`);
      check = await runCheck({
        kafka,
        historyPath: history.path,
        topicPrefix,
        idempotencyWindowMs: config.KES_IDEMPOTENCY_WINDOW_S * 1000,
        onProgress: progress,
        kafkaAddress: config.KAFKA_BROKERS.join(','),
      });
      if (check.violations.length > 0) exitCode = 13;
    }
    printReport(run, { runDir, machine: machine(ROOT, CODE_DIRS), settings }, check);
  } finally {
    for (const c of clients) c.close();
    await Promise.all(guards.map((g) => stopGuard(g, progress).catch(() => {})));
    await history?.close().catch(() => {});
    if (!options.keep) {
      await cleanUpRun({ kafka, topicPrefix, redis, redisPrefix }).catch(() => {});
      progress(`deleted the run's topics and Redis keys (--keep keeps them); logs stay in ${runDir}`);
    }
    redis.disconnect();
  }
  return exitCode;
}

runMain('bench:guard', main);

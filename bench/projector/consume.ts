import { performance } from 'node:perf_hooks';
import type { Kafka } from 'kafkajs';
import type { KesConfig } from '../../pipeline/config/config.js';
import type { ProjectionCatalog } from '../../projectors/catalog/projectionCatalog.js';
import { ProjectorMetrics } from '../../projectors/metrics.js';
import { DeadLetterSink } from '../../projectors/run/deadLetterSink.js';
import { EventDecoder } from '../../projectors/run/eventDecoder.js';
import { Projector } from '../../projectors/run/projector.js';
import { CpuMeter } from '../support/cpuMeter.js';
import { percentile } from '../support/latency.js';
import { progress } from '../support/run.js';
import type { TimedEngine } from './engines.js';
import { phaseCpu } from './phaseCpu.js';
import type { Profiler } from './profiler.js';
import { type ConsumeResult, PROJECTION } from './projectorRun.js';

async function histogramSumCount(h: ProjectorMetrics['batchRows']): Promise<{ sum: number; count: number }> {
  const { values } = await h.get();
  let sum = 0;
  let count = 0;
  for (const v of values) {
    if (v.metricName?.endsWith('_sum')) sum += v.value;
    else if (v.metricName?.endsWith('_count')) count += v.value;
  }
  return { sum, count };
}

/**
 * The `Projector` class itself over `topic` on a fresh group, timed from start() until every partition's committed
 * position reached its end offset (the onFlushed callback), the group join included.
 */
export async function consumeAll(args: {
  label: string;
  kafka: Kafka;
  engine: TimedEngine;
  catalog: ProjectionCatalog;
  version: number;
  group: string;
  topic: string;
  ends: Map<number, number>;
  config: KesConfig;
  cpu: CpuMeter;
  idleBefore: number | undefined;
  profiler: Profiler | undefined;
  profileFile: string;
  timeoutMs: number;
  /**
   * Projectors in one consumer group (default 1). They share this process, its metrics and dead-letter sink: the
   * figure shows how the group spreads the partitions, not what separate machines would add.
   */
  instances?: number;
}): Promise<ConsumeResult> {
  const { config } = args;
  const metrics = new ProjectorMetrics();
  const deadLetters = new DeadLetterSink(
    args.kafka,
    `${config.KES_DEADLETTER_PREFIX}${PROJECTION.name}`,
    PROJECTION.name,
  );
  const reached = new Set<number>();
  for (const [p, end] of args.ends) if (end === 0) reached.add(p);
  let done: () => void = () => {};
  let failed: (error: unknown) => void = () => {};
  const finished = new Promise<void>((res, rej) => {
    done = res;
    failed = rej;
  });
  const make = () =>
    new Projector({
      kafka: args.kafka,
      engine: args.engine,
      catalog: args.catalog,
      projection: PROJECTION,
      version: args.version,
      group: args.group,
      topics: [args.topic],
      decoder: new EventDecoder(config.SCHEMA_REGISTRY_URL, config.KES_TOPIC_PREFIX),
      deadLetters,
      metrics,
      batchRows: config.KES_PROJECTOR_BATCH_ROWS,
      batchMs: config.KES_PROJECTOR_BATCH_MS,
      fetchBytes: config.KES_PROJECTOR_FETCH_BYTES,
      // As `kes project` does: the group's session from the settings (bench:cluster lengthens it on a busy machine).
      sessionTimeoutMs: config.KES_PROJECTOR_SESSION_TIMEOUT_MS,
      log: (line) => progress(`  ${line}`),
      onFlushed: (flushed) => {
        for (const f of flushed) {
          if (f.topic === args.topic && f.nextOffset >= (args.ends.get(f.partition) ?? Number.POSITIVE_INFINITY)) {
            reached.add(f.partition);
          }
        }
        if (reached.size >= args.ends.size) done();
      },
      onCrash: (error) => failed(error),
    });
  const projectors = Array.from({ length: args.instances ?? 1 }, make);
  if (reached.size >= args.ends.size) done();
  await args.profiler?.start();
  const cpu0 = args.cpu.snapshot();
  const t0 = performance.now();
  let joinedAt: number | undefined;
  const joinWatch = setInterval(() => {
    if (joinedAt === undefined && projectors.some((p) => p.assignedPartitions > 0)) joinedAt = performance.now();
  }, 2);
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.all(projectors.map((p) => p.start()));
    await Promise.race([
      finished,
      new Promise<never>((_, rej) => {
        timer = setTimeout(
          () => rej(new Error(`${args.label}: not at the end of every partition after ${args.timeoutMs / 1000} s`)),
          args.timeoutMs,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
    clearInterval(joinWatch);
  }
  const t1 = performance.now();
  const cpu = phaseCpu(CpuMeter.between(cpu0, args.cpu.snapshot()));
  const profile = args.profiler ? await args.profiler.stop(args.profileFile) : undefined;
  await Promise.all(projectors.map((p) => p.stop()));
  await deadLetters.close();

  const rows = await histogramSumCount(metrics.batchRows);
  const flushes = await histogramSumCount(metrics.insertSeconds);
  const { values } = await metrics.rows.get();
  const events = values.reduce((n, v) => n + v.value, 0);
  const dead = (await metrics.deadLetters.get()).values.reduce((n, v) => n + v.value, 0);
  if (dead > 0) throw new Error(`${args.label}: ${dead} records went to the dead-letter topic`);
  const seconds = (t1 - t0) / 1000;
  const joinSeconds = ((joinedAt ?? t0) - t0) / 1000;
  const inserts = args.engine.inserts;
  const sizes = inserts.map((i) => i.rows).sort((a, b) => a - b);
  const times = inserts.map((i) => i.ms).sort((a, b) => a - b);
  const insertMs = times.reduce((a, b) => a + b, 0);
  return {
    label: args.label,
    group: args.group,
    events,
    seconds,
    eventsPerSecond: events / seconds,
    joinSeconds,
    eventsPerSecondAfterJoin: events / (seconds - joinSeconds),
    inserts: rows.count,
    meanRowsPerInsert: rows.count > 0 ? rows.sum / rows.count : Number.NaN,
    p50RowsPerInsert: percentile(sizes, 50),
    maxRowsPerInsert: sizes[sizes.length - 1] ?? Number.NaN,
    meanInsertMs: times.length > 0 ? insertMs / times.length : Number.NaN,
    p99InsertMs: percentile(times, 99),
    insertShareOfWall: insertMs / (t1 - t0),
    meanFlushMs: flushes.count > 0 ? (1000 * flushes.sum) / flushes.count : Number.NaN,
    flushes: flushes.count,
    cpu,
    idleBefore: args.idleBefore,
    profile,
  };
}

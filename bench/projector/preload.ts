import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { partitionOf } from '../../guard/protocol/partitioner.js';
import { openEventCatalog } from '../../pipeline/schemas/eventCatalog.js';
import { CpuMeter } from '../support/cpuMeter.js';
import { formatNumber } from '../support/figures.js';
import { endOffsets, ensureTopic } from '../support/kafkaAdmin.js';
import { progress } from '../support/run.js';
import { CURRENCIES } from './accountEvents.js';
import type { Options } from './options.js';
import { cpuLine, phaseCpu } from './phaseCpu.js';
import { type PreloadProducer, type PreloadTally, type PreloadWork, runPreloadProducers } from './preloadProducers.js';
import type { ProjectorRun } from './projectorRun.js';

const fmt = (n: number | undefined, digits = 0) => formatNumber(n, digits);

/**
 * Producer k owns the partitions p with p % producers = k, so a stream's versions reach its partition in order, as
 * from the guard; each producer writes a share of the events proportional to its streams.
 */
function preloadPlan(options: Options, category: string): PreloadProducer[] {
  const plan: PreloadProducer[] = Array.from({ length: options.producers }, (_, index) => ({
    index,
    streams: [],
    quota: 0,
  }));
  for (let i = 0; i < options.streams; i++) {
    const id = String(i);
    const name = `${category}-${id}`;
    const partition = partitionOf(name, options.partitions);
    plan[partition % options.producers]?.streams.push({
      name,
      id,
      partition,
      next: 0,
      currency: CURRENCIES[i % CURRENCIES.length] as string,
    });
  }
  const owning = plan.filter((p) => p.streams.length > 0);
  let left = options.events;
  owning.forEach((p, i) => {
    p.quota =
      i === owning.length - 1 ? left : Math.round((options.events * p.streams.length) / Math.max(1, options.streams));
    left -= p.quota;
  });
  return owning;
}

/** The pre-load in a worker thread: building records and kafkajs' encoding are CPU-bound, one core per thread. */
function preloadInWorker(work: PreloadWork, onCommitted: (events: number) => void): Promise<PreloadTally> {
  return new Promise((resolveTally, reject) => {
    const worker = new Worker(new URL('./preloadWorker.js', import.meta.url), { workerData: work });
    let result: PreloadTally | undefined;
    worker.on('message', (m: { committed?: number; done?: PreloadTally; error?: string }) => {
      if (m.committed !== undefined) onCommitted(m.committed);
      if (m.done) result = m.done;
      if (m.error) reject(new Error(`pre-load worker: ${m.error}`));
    });
    worker.once('error', reject);
    worker.once('exit', (code) =>
      result ? resolveTally(result) : reject(new Error(`pre-load worker exited with ${code} before it finished`)),
    );
  });
}

/** Phase preload: a fresh topic filled with committed events as the guard writes them, by transactional producers. */
export async function preloadPhase(run: ProjectorRun): Promise<void> {
  const { config, options, kafka, topic } = run;
  // Registers the schemas (idempotent) and fails early on one the registry refuses.
  await openEventCatalog({ registryUrl: config.SCHEMA_REGISTRY_URL, dir: config.KES_SCHEMAS_DIR });
  await ensureTopic(kafka, topic, options.partitions, config.KES_TOPIC_REPLICATION, [
    { name: 'retention.ms', value: '-1' },
  ]);
  progress(
    `pre-load: ${fmt(options.events)} events over ${fmt(options.streams)} streams into ${options.partitions} partitions, ` +
      `${options.producers} transactional producers in ${options.preloadThreads} thread(s), ${fmt(options.txEvents)} events per transaction`,
  );
  const plan = preloadPlan(options, run.category);
  const threads = Math.max(1, Math.min(options.preloadThreads, plan.length));
  let written = 0;
  let nextReport = options.events / 10;
  const started = performance.now();
  const onCommitted = (n: number) => {
    written += n;
    if (written >= nextReport) {
      progress(`  ${fmt(written)} events committed, ${fmt(written / ((performance.now() - started) / 1000))} events/s`);
      nextReport += options.events / 10;
    }
  };
  const cpu0 = run.cpu.snapshot();
  const tallies = await Promise.all(
    Array.from({ length: threads }, (_, t) => {
      const work: PreloadWork = {
        brokers: [...config.KAFKA_BROKERS],
        registryUrl: config.SCHEMA_REGISTRY_URL,
        schemasDir: config.KES_SCHEMAS_DIR,
        topic,
        txEvents: options.txEvents,
        transactionalPrefix: `kes-bench-projector.${run.id}`,
        producers: plan.filter((_, i) => i % threads === t),
      };
      return threads === 1 ? runPreloadProducers(work, onCommitted) : preloadInWorker(work, onCommitted);
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const cpu = phaseCpu(CpuMeter.between(cpu0, run.cpu.snapshot()));
  const types: Record<string, number> = {};
  for (const t of tallies) for (const [type, n] of Object.entries(t.types)) types[type] = (types[type] ?? 0) + n;
  const events = tallies.reduce((n, t) => n + t.events, 0);
  const ends = await endOffsets(kafka, topic);
  const loaded = {
    topic,
    events,
    transactions: tallies.reduce((n, t) => n + t.transactions, 0),
    producers: plan.length,
    threads,
    txEvents: options.txEvents,
    seconds,
    eventsPerSecond: events / seconds,
    bytes: tallies.reduce((n, t) => n + t.bytes, 0),
    endOffsets: [...ends.values()].reduce((a, b) => a + b, 0),
    streams: options.streams,
    types,
    cpu,
  };
  run.preload = loaded;
  run.ends = ends;
  progress(
    `  ${fmt(loaded.events)} events in ${loaded.seconds.toFixed(1)} s = ${fmt(loaded.eventsPerSecond)} events/s ` +
      `(${loaded.transactions} transactions, ${loaded.producers} producers in ${loaded.threads} thread(s), ${(loaded.bytes / loaded.events).toFixed(0)} bytes per record); ${cpuLine(loaded.cpu)}`,
  );
}

import { randomUUID } from 'node:crypto';
import type { Kafka, Message, Producer } from 'kafkajs';
import { initTransactional } from '../../guard/protocol/fencing.js';
import { partitionOf } from '../../guard/protocol/partitioner.js';
import { contentHash } from '../../pipeline/events/contentHash.js';
import { encodeHeaders } from '../../pipeline/events/eventRecord.js';
import { type EventCatalog, openEventCatalog } from '../../pipeline/schemas/eventCatalog.js';
import { closedLoop } from '../support/closedLoop.js';
import { CpuMeter, cpuRecord } from '../support/cpuMeter.js';
import { formatNumber } from '../support/figures.js';
import { deleteTopics, ensureTopic } from '../support/kafkaAdmin.js';
import { summarize } from '../support/latency.js';
import { errorText, progress } from '../support/run.js';
import { type GuardRun, mostClientsOf, type RawResult } from './guardRun.js';
import { CATEGORY, EVENT_TYPE, eventData } from './load.js';

/** The raw ceiling: kafkajs alone, records as the guard writes them, one measurement per --raw-batch. */
export async function rawKafkaPhase(run: GuardRun): Promise<void> {
  const { options, config, kafka, rawTopic } = run;
  const catalog = await openEventCatalog({ registryUrl: config.SCHEMA_REGISTRY_URL, dir: config.KES_SCHEMAS_DIR });
  await ensureTopic(kafka, rawTopic, run.partitions, config.KES_TOPIC_REPLICATION);
  const most = mostClientsOf(run);
  try {
    for (const spec of options.rawBatches) {
      let batch: number;
      let source: string;
      if (spec === 'max') {
        batch = config.KES_GUARD_MAX_BATCH_EVENTS;
        source = 'KES_GUARD_MAX_BATCH_EVENTS';
      } else if (spec === 'guard') {
        const mean = most?.window.guard.meanGroupCommit ?? Number.NaN;
        if (!Number.isFinite(mean)) continue;
        batch = Math.max(1, Math.round(mean));
        source = `guard's mean group commit at ${most?.clients} clients`;
      } else {
        batch = spec;
        source = '--raw-batch';
      }
      const producers = options.guards * config.KES_GUARD_PIPELINE;
      progress(`raw kafkajs, ${producers} transactional producer(s), ${batch} events per transaction (${source})`);
      const r = await run.measure(
        'the phase',
        () =>
          rawTransactions({
            kafka,
            catalog,
            topic: rawTopic,
            partitions: run.partitions,
            streams: options.streams,
            producers,
            batch,
            batchSource: source,
            transactionalPrefix: `kes-bench-raw.${run.id}`,
            warmupMs: options.warmupMs,
            durationMs: options.durationMs,
            cpu: run.ctx.cpu,
          }),
        (x) => x.cpu,
      );
      run.raw.push(r);
      progress(
        `  ${formatNumber(r.eventsPerSecond, 0)} events/s, ${r.transactions} transactions, p50 ${formatNumber(r.latency.p50, 1)} ms per transaction, cpu ${JSON.stringify(r.cpu)}`,
      );
    }
  } finally {
    // The raw records are not the guard's: out of the way of the checker (and of the disk).
    await deleteTopics(kafka, [rawTopic]).catch((error: unknown) =>
      progress(`could not delete ${rawTopic}: ${errorText(error)}`),
    );
  }
}

export async function rawTransactions(args: {
  kafka: Kafka;
  catalog: EventCatalog;
  topic: string;
  partitions: number;
  streams: number;
  producers: number;
  batch: number;
  batchSource: string;
  transactionalPrefix: string;
  warmupMs: number;
  durationMs: number;
  cpu: CpuMeter;
  /** Where each measured transaction's latency goes (default: this call's own list). */
  latencies?: number[];
  /** Keep the transaction coordinator as the guard does (default false: stock kafkajs, a lookup per request). */
  cacheCoordinator?: boolean;
}): Promise<RawResult> {
  const { kafka, catalog, topic, partitions, batch } = args;
  const producers: Producer[] = await Promise.all(
    Array.from({ length: args.producers }, (_, i) =>
      initTransactional(kafka, `${args.transactionalPrefix}.${batch}.${i}`, 60_000, {
        cacheCoordinator: args.cacheCoordinator ?? false,
      }),
    ),
  );
  const versions = new Map<string, number>();
  let n = 0;
  const build = () => {
    const timeMs = Date.now();
    const messages = new Array<Message>(batch);
    for (let i = 0; i < batch; i++) {
      n += 1;
      const stream = `${CATEGORY}-${Math.floor(Math.random() * args.streams)}`;
      const version = (versions.get(stream) ?? -1) + 1;
      versions.set(stream, version);
      const data = eventData(n);
      messages[i] = {
        key: stream,
        value: catalog.encode(EVENT_TYPE, data),
        partition: partitionOf(stream, partitions),
        timestamp: String(timeMs),
        headers: encodeHeaders({
          stream,
          version,
          eventId: randomUUID(),
          type: EVENT_TYPE,
          timeMs,
          contentHash: contentHash(EVENT_TYPE, data, undefined),
        }),
      };
    }
    return messages;
  };

  let events = 0;
  let buildMs = 0;
  let builds = 0;
  const latencies: number[] = args.latencies ?? [];
  const before = latencies.length;
  try {
    const window = await closedLoop({
      workers: producers.length,
      op: async (w) => {
        const b0 = performance.now();
        const messages = build();
        const t0 = performance.now();
        const tx = await (producers[w] as Producer).transaction();
        try {
          await tx.sendBatch({ acks: -1, timeout: 10_000, topicMessages: [{ topic, messages }] });
          await tx.commit();
        } catch (error) {
          await tx.abort().catch(() => {});
          throw error;
        }
        return { events: messages.length, buildMs: t0 - b0, txMs: performance.now() - t0 };
      },
      record: (r) => {
        events += r.events;
        latencies.push(r.txMs);
        buildMs += r.buildMs;
        builds += 1;
      },
      warmupMs: args.warmupMs,
      durationMs: args.durationMs,
      window: async () => {
        const cpu0 = args.cpu.snapshot();
        return async () => ({ cpu0, cpu1: args.cpu.snapshot() });
      },
    });
    const seconds = (window.cpu1.at - window.cpu0.at) / 1000;
    return {
      batch,
      batchSource: args.batchSource,
      producers: producers.length,
      eventsPerSecond: events / seconds,
      transactions: latencies.length - before,
      latency: summarize(latencies.slice(before)),
      meanBuildMs: builds > 0 ? buildMs / builds : Number.NaN,
      cpu: cpuRecord(CpuMeter.between(window.cpu0, window.cpu1), 'bench client', 'machine (all)'),
    };
  } finally {
    await Promise.all(producers.map((p) => p.disconnect().catch(() => {})));
  }
}

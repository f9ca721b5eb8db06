import type { Batch, Consumer, Kafka } from 'kafkajs';
import type { ClickHouseEngine } from '../../pipeline/clickhouse/engine.js';
import { DeadLetterWriteError, ProjectionWriteError } from '../../pipeline/errors.js';
import { failpoint } from '../../pipeline/faults/failpoints.js';
import { isTransientKafkaError } from '../../pipeline/kafka/transientErrors.js';
import type { PartitionProgress, ProjectionCatalog } from '../catalog/projectionCatalog.js';
import type { ProjectorMetrics } from '../metrics.js';
import { type Projection, versioned } from '../readModels/projection.js';
import { BatchGate } from './batchGate.js';
import type { DeadLetterSink } from './deadLetterSink.js';
import type { DecodedEvent } from './decodedEvent.js';
import { isRetriable } from './engineErrors.js';
import type { EventDecoder, Undecodable } from './eventDecoder.js';

export interface ProjectorOptions {
  kafka: Kafka;
  engine: ClickHouseEngine;
  catalog: ProjectionCatalog;
  projection: Projection;
  version: number;
  group: string;
  topics: readonly string[];
  decoder: EventDecoder;
  deadLetters: DeadLetterSink;
  metrics: ProjectorMetrics;
  batchRows: number;
  batchMs: number;
  fetchBytes: number;
  /** KES_PROJECTOR_SESSION_TIMEOUT_MS. @default 10000 */
  sessionTimeoutMs?: number;
  /** How long a batch keeps retrying a retriable ClickHouse failure before the consumer gives up. @default 120000 */
  retryForMs?: number;
  /** Called after each batch is in ClickHouse and its offsets are committed. */
  onFlushed?: (flushed: FlushedPartition[]) => void;
  /** Called when the consumer stops for good (crash without restart), with why. */
  onCrash?: (error: unknown) => void;
  log?: ((line: string) => void) | undefined;
}

export interface FlushedPartition {
  topic: string;
  partition: number;
  /** The next offset to read (committed). */
  nextOffset: number;
  highWatermark: number;
  rows: number;
}

interface Part {
  topic: string;
  partition: number;
  firstOffset: number;
  nextOffset: number;
  highWatermark: number;
  rows: Record<string, unknown>[];
  events: DecodedEvent[];
  deadLetters: Undecodable[];
  heartbeat: () => Promise<void>;
}

/**
 * One consumer of a projection's consumer group, writing one version of the projection.
 *
 * The order of a batch is: dead letters acknowledged by Kafka, rows inserted into ClickHouse, offsets committed.
 * A crash between any two steps replays the batch from the last committed offset, and every table of a projection
 * absorbs a replayed row (see readModels/projection.ts): delivery is at least once, the read models exactly once.
 * Records are read with read_committed isolation through kafkajs, whose aborted-transaction filter kes patches
 * (pipeline/kafka/readCommittedPatch.ts), so nothing of an aborted or fenced transaction is ever projected.
 */
export class Projector {
  private consumer: Consumer | undefined;
  private readonly sink: string;
  private readonly gate: BatchGate<Part>;
  private assigned = 0;
  /** Set once a batch fails in a way no retry can fix; the consumer is not restarted after that. */
  private fatal: unknown;
  private restarting: Promise<void> | undefined;

  constructor(private readonly options: ProjectorOptions) {
    this.sink = versioned(options.catalog.database, options.projection.sinkTable, options.version);
    this.gate = new BatchGate<Part>(
      options.batchRows,
      (parts) => this.flush(parts),
      (error) => this.broken(error),
    );
  }

  get assignedPartitions(): number {
    return this.assigned;
  }

  async start(): Promise<void> {
    const o = this.options;
    const consumer = o.kafka.consumer({
      groupId: o.group,
      readUncommitted: false,
      allowAutoTopicCreation: false,
      maxBytes: o.fetchBytes,
      maxBytesPerPartition: Math.max(1_048_576, Math.floor(o.fetchBytes / 4)),
      // The broker holds a fetch until a quarter of the batch is there or the batch time is up: batches are
      // bounded by bytes and by time, so a trickle of events still becomes visible within batchMs.
      minBytes: Math.min(1_048_576, Math.floor(o.fetchBytes / 4)),
      maxWaitTimeInMs: Math.max(10, o.batchMs),
      sessionTimeout: o.sessionTimeoutMs ?? 10_000,
      rebalanceTimeout: 60_000,
      heartbeatInterval: Math.max(500, Math.floor((o.sessionTimeoutMs ?? 10_000) / 10)),
      retry: {
        retries: 8,
        // A fatal batch stops the consumer for good; anything else restarts it, which replays from the last commit.
        restartOnFailure: async () => this.fatal === undefined,
      },
    });
    this.consumer = consumer;
    const { GROUP_JOIN, CRASH, END_BATCH_PROCESS } = consumer.events;
    consumer.on(GROUP_JOIN, (event) => {
      const assignment = event.payload.memberAssignment as Record<string, number[]>;
      this.assigned = Object.values(assignment).reduce((n, ps) => n + ps.length, 0);
      o.metrics.partitions.set({ projection: o.projection.name }, this.assigned);
    });
    consumer.on(END_BATCH_PROCESS, (event) => {
      // A fetch of only aborted records or markers never reaches eachBatch; commit past it so the lag can reach 0.
      const { topic, partition, batchSize, lastOffset, highWatermark } = event.payload;
      if (batchSize === 0) void this.skipPast(topic, partition, Number(lastOffset) + 1, Number(highWatermark));
    });
    consumer.on(CRASH, (event) => {
      if (event.payload.restart || this.fatal !== undefined) return;
      if (isTransientKafkaError(event.payload.error)) {
        this.startAgain(consumer, event.payload.error);
        return;
      }
      this.fatal = event.payload.error;
      o.onCrash?.(event.payload.error);
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [...o.topics], fromBeginning: true });
    await this.run(consumer);
  }

  private async run(consumer: Consumer): Promise<void> {
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 64,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        if (!isRunning() || isStale() || this.fatal) return;
        const part = await this.partOf(batch, heartbeat);
        try {
          // Resolves once the previous batch is written; this one is written while kafkajs fetches the next.
          await this.gate.add(part);
        } catch {
          // A batch failed: the gate's owner reads again from the last commit (see broken()); move nothing on.
          return;
        }
        resolveOffset(batch.lastOffset());
      },
    });
  }

  /**
   * kafkajs gave up on a consumer for an error that ends when the broker is back (isTransientKafkaError): a new
   * consumer reads again from the committed offsets, as kafkajs's own restart would, until it joins or `stop()`.
   */
  private startAgain(crashed: Consumer, error: unknown): void {
    const o = this.options;
    o.log?.(`projection ${o.projection.name}: the consumer stopped (${String(error)}); starting it again`);
    setTimeout(() => {
      if (this.consumer !== crashed || this.fatal !== undefined) return;
      this.start().catch((e: unknown) => {
        if (isTransientKafkaError(e) && this.consumer !== undefined) this.startAgain(this.consumer, e);
        else if (this.fatal === undefined) {
          this.fatal = e;
          o.onCrash?.(e);
        }
      });
    }, 1_000).unref();
  }

  async stop(): Promise<void> {
    const consumer = this.consumer;
    // Let the batches being written commit their offsets first: a graceful stop leaves nothing to replay.
    await this.gate.idle();
    await consumer?.stop().catch(() => {});
    await this.gate.idle();
    this.consumer = undefined;
    if (consumer) await consumer.disconnect().catch(() => {});
    this.options.metrics.partitions.set({ projection: this.options.projection.name }, 0);
  }

  /** Offsets of records never projected (markers, aborted records) are committed in order with the batches. */
  private async skipPast(topic: string, partition: number, next: number, highWatermark: number): Promise<void> {
    const part: Part = {
      topic,
      partition,
      firstOffset: next,
      nextOffset: next,
      highWatermark,
      rows: [],
      events: [],
      deadLetters: [],
      heartbeat: async () => {},
    };
    await this.gate.add(part).catch(() => {});
  }

  /**
   * A batch could not be written. A fatal one stops the projector; otherwise the consumer reads again from the last
   * committed offsets (kafkajs keeps its own positions past the batch), once the flushes in progress are done.
   */
  private broken(error: unknown): void {
    const o = this.options;
    if (isFatal(error)) {
      if (this.fatal === undefined) {
        this.fatal = error;
        o.onCrash?.(error);
      }
      return;
    }
    o.log?.(`projection ${o.projection.name}: a batch failed (${String(error)}); reading again from the last commit`);
    const consumer = this.consumer;
    if (!consumer || this.restarting) return;
    this.restarting = (async () => {
      await this.gate.idle();
      await consumer.stop().catch(() => {});
      this.gate.reset();
      if (this.consumer === consumer) await this.run(consumer);
    })()
      .catch((e) => o.log?.(`projection ${o.projection.name}: restart failed: ${String(e)}`))
      .finally(() => {
        this.restarting = undefined;
      });
  }

  private async partOf(batch: Batch, heartbeat: () => Promise<void>): Promise<Part> {
    const o = this.options;
    const { events, deadLetters } = await o.decoder.decode(batch.topic, batch.partition, batch.messages);
    const nextOffset = Number(batch.lastOffset()) + 1;
    return {
      topic: batch.topic,
      partition: batch.partition,
      firstOffset: Number(batch.firstOffset() ?? nextOffset),
      nextOffset,
      highWatermark: Number(batch.highWatermark),
      events,
      rows: rowsOf(o.projection, events),
      deadLetters,
      heartbeat,
    };
  }

  private async flush(parts: Part[]): Promise<void> {
    const o = this.options;
    const labels = { projection: o.projection.name };
    const started = performance.now();
    const deadLetters = parts.flatMap((p) => p.deadLetters);
    await o.deadLetters.send(deadLetters);
    if (deadLetters.length > 0) failpoint('projector-after-dead-letters', `${deadLetters.length} dead letters`);
    for (const d of deadLetters) o.metrics.deadLetters.inc({ ...labels, reason: d.reason.split(':')[0] ?? 'unknown' });

    const rows = parts.flatMap((p) => p.rows);
    for (let i = 0; i < rows.length; i += o.batchRows) {
      const chunk = rows.slice(i, i + o.batchRows);
      await this.insertWithRetry(chunk, parts);
      o.metrics.batchRows.observe(labels, chunk.length);
    }
    failpoint('projector-after-insert', `${rows.length} rows`);
    const visibleAt = Date.now();
    o.metrics.rows.inc(labels, rows.length);
    for (const p of parts) for (const e of p.events) o.metrics.freshness.observe(labels, (visibleAt - e.timeMs) / 1000);

    // Offsets only after the rows are in: a crash before this line replays the batch, which the tables absorb.
    const last = new Map<string, Part>();
    for (const p of parts) {
      const key = `${p.topic}|${p.partition}`;
      const seen = last.get(key);
      if (!seen || seen.nextOffset < p.nextOffset) last.set(key, p);
    }
    try {
      if (!this.consumer) throw new Error('the consumer stopped');
      await this.consumer.commitOffsets(
        [...last.values()].map((p) => ({ topic: p.topic, partition: p.partition, offset: String(p.nextOffset) })),
      );
    } catch (error) {
      // The rows are in. An offset not committed (a rebalance took the partition, the projector is stopping) only
      // means whoever reads the partition next writes them again, which changes no answer.
      o.log?.(`projection ${o.projection.name}: offsets not committed (${String(error)}); the batch may be replayed`);
    }
    const flushed: FlushedPartition[] = [];
    const progress: PartitionProgress[] = [];
    for (const p of last.values()) {
      const lag = Math.max(0, p.highWatermark - p.nextOffset);
      o.metrics.lag.set({ ...labels, topic: p.topic, partition: String(p.partition) }, lag);
      const rowsOfPartition = parts
        .filter((q) => q.topic === p.topic && q.partition === p.partition)
        .reduce((n, q) => n + q.rows.length, 0);
      flushed.push({
        topic: p.topic,
        partition: p.partition,
        nextOffset: p.nextOffset,
        highWatermark: p.highWatermark,
        rows: rowsOfPartition,
      });
      const lastEvent = p.events[p.events.length - 1];
      if (lastEvent) {
        progress.push({
          topic: p.topic,
          partition: p.partition,
          offset: lastEvent.offset,
          eventTimeMs: lastEvent.timeMs,
          projectedAtMs: visibleAt,
        });
      }
    }
    o.metrics.insertSeconds.observe(labels, (performance.now() - started) / 1000);
    // Progress is for status screens only; losing one row of it loses nothing of the read models.
    await o.catalog
      .recordProgress(o.projection.name, o.version, progress)
      .catch((error) => o.log?.(`projection ${o.projection.name}: progress not recorded: ${String(error)}`));
    o.onFlushed?.(flushed);
  }

  private async insertWithRetry(rows: Record<string, unknown>[], parts: Part[]): Promise<void> {
    const o = this.options;
    const deadline = Date.now() + (o.retryForMs ?? 120_000);
    for (let attempt = 1; ; attempt++) {
      try {
        await o.engine.insert(this.sink, rows);
        return;
      } catch (error) {
        const where = parts.map((p) => ({
          topic: p.topic,
          partition: p.partition,
          from: p.firstOffset,
          to: p.nextOffset - 1,
        }));
        const retriable = isRetriable(error);
        if (!retriable || Date.now() > deadline || !this.consumer) {
          throw new ProjectionWriteError(o.projection.name, where, retriable, error);
        }
        o.metrics.retries.inc({ projection: o.projection.name });
        if (attempt === 1 || attempt % 10 === 0) {
          o.log?.(`projection ${o.projection.name}: insert failed (${String(error)}), retrying (attempt ${attempt})`);
        }
        // Keep the group membership alive while ClickHouse is away; a rebalance meanwhile aborts the batch.
        await parts[0]?.heartbeat();
        await new Promise((r) => setTimeout(r, Math.min(2_000, 100 * attempt)));
      }
    }
  }
}

/**
 * Errors no retry can fix: a dead-letter topic that refuses the record (skipping it would lose it silently), or a
 * write ClickHouse refuses for what it is (bad SQL or data), not for being unavailable.
 */
function isFatal(error: unknown): boolean {
  if (error instanceof DeadLetterWriteError) return true;
  if (error instanceof ProjectionWriteError) return !error.retriable;
  return false;
}

/** The sink rows of a batch's events; an event the projection has no row for (undefined) is skipped. */
function rowsOf(projection: Projection, events: readonly DecodedEvent[]): Record<string, unknown>[] {
  const rows: Record<string, unknown>[] = [];
  for (const event of events) {
    const row = projection.row(event);
    if (row !== undefined) rows.push(row);
  }
  return rows;
}

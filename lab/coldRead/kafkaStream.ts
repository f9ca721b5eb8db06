import { performance } from 'node:perf_hooks';
import type { Redis } from 'ioredis';
import { type Kafka, logLevel } from 'kafkajs';
import { preloadPartition } from '../../bench/read/preloadPartition.js';
import { cleanUpRun } from '../../bench/support/cleanUp.js';
import { ensureTopic } from '../../bench/support/kafkaAdmin.js';
import { readStreamEvents } from '../../guard/commands/streamEvents.js';
import { StreamIndex } from '../../guard/read/streamIndex.js';
import { type StreamLocation, StreamReader } from '../../guard/read/streamReader.js';
import type { KesConfig } from '../../pipeline/config/config.js';
import { HighWatermarks } from '../../pipeline/kafka/highWatermarks.js';
import { createKafka } from '../../pipeline/kafka/kafkaClient.js';
import { createRedis } from '../../pipeline/redis/redisClient.js';
import { type EventCatalog, openEventCatalog } from '../../pipeline/schemas/eventCatalog.js';

/** Records per transaction of the pre-load: a guard's group-commit batch, as bench:read writes it. */
export const TX_EVENTS = 500;
const TIMEOUT_MS = 600_000;

/**
 * The Kafka side of cold-read: partitions written as the guard writes them (bench/read/preloadPartition.ts) with the
 * stream's position index the guard's writer would have recorded, and two ways to load the stream from them: the
 * scan from offset 0 that raw Kafka leaves you (the guard's old cold load, guard/commands/streamEvents.ts) and kes'
 * indexed read (guard/read/streamReader.ts). Topics `<namespace>.…` and Redis keys `<namespace>:` are the run's own.
 */
export class KafkaStreams {
  private constructor(
    private readonly kafka: Kafka,
    private readonly redis: Redis,
    private readonly catalog: EventCatalog,
    private readonly watermarks: HighWatermarks,
    private readonly index: StreamIndex,
    private readonly reader: StreamReader,
    private readonly namespace: string,
    private readonly replication: number,
  ) {}

  static async open(config: KesConfig, namespace: string): Promise<KafkaStreams> {
    const kafka = createKafka(config, `kes-lab-cold-read-${namespace}`, { logLevel: logLevel.NOTHING });
    const redis = createRedis(config);
    redis.on('error', () => undefined);
    const catalog = await openEventCatalog({ registryUrl: config.SCHEMA_REGISTRY_URL, dir: config.KES_SCHEMAS_DIR });
    const watermarks = new HighWatermarks(kafka);
    const index = new StreamIndex(redis, `${namespace}:`);
    const reader = new StreamReader(kafka, watermarks, catalog, index, TIMEOUT_MS);
    return new KafkaStreams(kafka, redis, catalog, watermarks, index, reader, namespace, config.KES_TOPIC_REPLICATION);
  }

  /** A fresh one-partition topic of `offsets` records holding the stream's `events`, and the stream's index. */
  async preload(offsets: number, stream: string, events: number): Promise<StreamLocation> {
    const topic = `${this.namespace}.account${offsets}`;
    await ensureTopic(this.kafka, topic, 1, this.replication, [{ name: 'retention.ms', value: '-1' }]);
    const [target] = await preloadPartition({
      kafka: this.kafka,
      catalog: this.catalog,
      topic,
      offsets,
      txEvents: TX_EVENTS,
      targets: [{ stream, events }],
      transactionalId: `kes-lab-cold-read.${this.namespace}.${offsets}`,
    });
    if (!target) throw new Error('preload answered no stream');
    await this.index.add(topic, 0, stream, target.positions);
    return { topic, partition: 0, stream };
  }

  /** Raw Kafka: every record of the partition from offset 0 is fetched and decoded; the stream's are kept. */
  async scan(at: StreamLocation, events: number): Promise<number> {
    const started = performance.now();
    const found = await readStreamEvents(
      this.kafka,
      this.watermarks,
      this.catalog,
      { ...at, fromOffset: 0, afterVersion: -1, untilVersion: events - 1 },
      TIMEOUT_MS,
    );
    const elapsed = performance.now() - started;
    if (found.length !== events) throw new Error(`the scan found ${found.length} of ${events} events of ${at.stream}`);
    return elapsed;
  }

  /** kes: fetches at the offsets the stream's index names, every record checked. */
  async indexed(at: StreamLocation, events: number): Promise<{ ms: number; fetches: number }> {
    const started = performance.now();
    const { events: read, stats } = await this.reader.read(at, 0, events - 1);
    const elapsed = performance.now() - started;
    if (read.length !== events || stats.scanned) {
      throw new Error(
        `the indexed read got ${read.length} of ${events} events of ${at.stream} (scanned ${stats.scanned})`,
      );
    }
    return { ms: elapsed, fetches: stats.fetches };
  }

  /** Deletes the run's topics and index keys, then closes every connection; throws what could not be cleaned. */
  async close(): Promise<void> {
    try {
      await cleanUpRun({
        kafka: this.kafka,
        topicPrefix: `${this.namespace}.`,
        redis: this.redis,
        redisPrefix: `${this.namespace}:`,
      });
    } finally {
      await this.reader.close().catch(() => undefined);
      await this.watermarks.close().catch(() => undefined);
      this.redis.disconnect();
    }
  }
}

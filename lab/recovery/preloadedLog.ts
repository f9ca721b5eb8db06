import { logLevel } from 'kafkajs';
import type { StreamState } from '../../bench/projector/accountEvents.js';
import { CURRENCIES } from '../../bench/projector/accountEvents.js';
import { runPreloadProducers } from '../../bench/projector/preloadProducers.js';
import { ensureTopic } from '../../bench/support/kafkaAdmin.js';
import { partitionOf } from '../../guard/protocol/partitioner.js';
import type { KesConfig } from '../../pipeline/config/config.js';
import { createKafka } from '../../pipeline/kafka/kafkaClient.js';

/**
 * A category topic filled with committed events as the guard writes them (bench:projector's pre-load producers:
 * transactional, Avro values, kes headers), grown in steps: the log a guard must read back after Redis lost
 * everything. One producer writes every partition, so each stream's versions land in order; the streams keep their
 * next version between steps, so a grown log is still one valid history.
 */
export class PreloadedLog {
  readonly topic: string;
  private readonly streams: StreamState[];
  events = 0;

  constructor(
    private readonly config: KesConfig,
    topicPrefix: string,
    readonly category: string,
    private readonly partitions: number,
    streamCount: number,
    private readonly transactionalId: string,
  ) {
    this.topic = `${topicPrefix}${category}`;
    this.streams = Array.from({ length: streamCount }, (_, i) => {
      const name = `${category}-${i}`;
      return {
        name,
        id: String(i),
        partition: partitionOf(name, partitions),
        next: 0,
        currency: CURRENCIES[i % CURRENCIES.length] as string,
      };
    });
  }

  /** Whether a stream is one of the pre-loaded ones (their events were written by no logged append). */
  holds(stream: string): boolean {
    return stream.startsWith(`${this.category}-`);
  }

  /** Grows the log to `total` events (no-op when it holds as many already). */
  async growTo(total: number): Promise<void> {
    if (this.events === 0) {
      const kafka = createKafka(this.config, 'kes-lab-preload', { logLevel: logLevel.NOTHING });
      await ensureTopic(kafka, this.topic, this.partitions, this.config.KES_TOPIC_REPLICATION, [
        { name: 'retention.ms', value: '-1' },
      ]);
    }
    const quota = total - this.events;
    if (quota <= 0) return;
    const tally = await runPreloadProducers(
      {
        brokers: [...this.config.KAFKA_BROKERS],
        registryUrl: this.config.SCHEMA_REGISTRY_URL,
        schemasDir: this.config.KES_SCHEMAS_DIR,
        topic: this.topic,
        txEvents: 5_000,
        transactionalPrefix: this.transactionalId,
        producers: [{ index: 0, streams: this.streams, quota }],
      },
      () => {},
    );
    this.events += tally.events;
  }
}

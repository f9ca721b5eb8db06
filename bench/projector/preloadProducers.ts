import { randomUUID } from 'node:crypto';
import { logLevel, type Message, type Producer } from 'kafkajs';
import { initTransactional } from '../../guard/protocol/fencing.js';
import { contentHash } from '../../pipeline/events/contentHash.js';
import { encodeHeaders } from '../../pipeline/events/eventRecord.js';
import { createKafka } from '../../pipeline/kafka/kafkaClient.js';
import { openEventCatalog } from '../../pipeline/schemas/eventCatalog.js';
import { accountEvent, type StreamState } from './accountEvents.js';

/** One transactional producer of the pre-load: the partitions it owns, their streams, and how many events it writes. */
export interface PreloadProducer {
  index: number;
  streams: StreamState[];
  quota: number;
}

/** What one thread of the pre-load does (plain data: it crosses to a worker thread). */
export interface PreloadWork {
  brokers: string[];
  registryUrl: string;
  schemasDir: string;
  topic: string;
  txEvents: number;
  transactionalPrefix: string;
  producers: PreloadProducer[];
}

export interface PreloadTally {
  events: number;
  transactions: number;
  bytes: number;
  types: Record<string, number>;
}

/**
 * Runs some producers of the plan to the end of their quotas, writing records as the guard writes them: key =
 * stream, Avro value, the kes headers, one kes-time per transaction. `onCommitted` after each transaction.
 */
export async function runPreloadProducers(
  work: PreloadWork,
  onCommitted: (events: number) => void,
): Promise<PreloadTally> {
  const kafka = createKafka({ KAFKA_BROKERS: work.brokers }, 'kes-bench-projector-preload', {
    logLevel: logLevel.NOTHING,
  });
  const catalog = await openEventCatalog({ registryUrl: work.registryUrl, dir: work.schemasDir });
  const producers = await Promise.all(
    work.producers.map((p) => initTransactional(kafka, `${work.transactionalPrefix}.${p.index}`, 60_000)),
  );
  const tally: PreloadTally = { events: 0, transactions: 0, bytes: 0, types: {} };
  const loop = async (plan: PreloadProducer, producer: Producer) => {
    const own = plan.streams;
    let remaining = plan.quota;
    while (remaining > 0) {
      const n = Math.min(work.txEvents, remaining);
      remaining -= n;
      // One time for the whole transaction, as the guard stamps a group commit.
      const timeMs = Date.now();
      const messages = new Array<Message>(n);
      for (let i = 0; i < n; i++) {
        const s = own[Math.floor(Math.random() * own.length)] as StreamState;
        const version = s.next;
        s.next += 1;
        const { type, data } = accountEvent(s, version);
        tally.types[type] = (tally.types[type] ?? 0) + 1;
        const value = catalog.encode(type, data);
        const headers = encodeHeaders({
          stream: s.name,
          version,
          eventId: randomUUID(),
          type,
          timeMs,
          contentHash: contentHash(type, data, undefined),
        });
        tally.bytes += value.length + s.name.length;
        for (const [h, v] of Object.entries(headers)) tally.bytes += h.length + v.length;
        messages[i] = { key: s.name, value, partition: s.partition, timestamp: String(timeMs), headers };
      }
      const tx = await producer.transaction();
      try {
        await tx.sendBatch({ acks: -1, timeout: 30_000, topicMessages: [{ topic: work.topic, messages }] });
        await tx.commit();
      } catch (error) {
        await tx.abort().catch(() => {});
        throw error;
      }
      tally.transactions += 1;
      tally.events += n;
      onCommitted(n);
    }
  };
  try {
    await Promise.all(work.producers.map((p, i) => loop(p, producers[i] as Producer)));
  } finally {
    await Promise.all(producers.map((p) => p.disconnect().catch(() => {})));
  }
  return tally;
}

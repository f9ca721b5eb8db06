import type { Kafka } from 'kafkajs';
import { visibleRecords } from './committedReader.js';
import { type ClusterLike, createCluster, ISOLATION, type RawRecord } from './kafkajsInternals.js';

/**
 * Fetches a partition at a given offset, read_committed, on one long-lived connection: the reads of a stream at the
 * offsets an index names (guard/read/). `readCommitted` opens a cluster per call (metadata, connection), which costs
 * more than the few fetches such a read needs.
 *
 * The broker answers from the start of the record batch holding the offset, and at least one whole batch whatever
 * `maxBytes` says (KIP-74), so a small `maxBytes` fetches one batch: kafkajs decodes every record of what it gets,
 * and that decoding, not the round trip, is most of a fetch's cost.
 */
export interface FetchedRecords {
  /** Committed records at or after the offset asked for (aborted ones and transaction markers removed). */
  records: RawRecord[];
  /** The offset to fetch next: after the last record returned (markers and aborted records included). */
  next: number;
  /** The broker's last stable offset: read_committed fetches answer nothing at or beyond it. */
  lastStableOffset: number;
}

export class OffsetFetcher {
  private readonly cluster: ClusterLike;
  private connected: Promise<void> | undefined;
  private readonly topics = new Set<string>();

  constructor(kafka: Kafka) {
    this.cluster = createCluster(kafka, ISOLATION.READ_COMMITTED);
  }

  /**
   * One fetch at `offset`. Answers no records when `offset` is at the last stable offset (an open transaction
   * before it) after waiting up to `maxWaitMs` for it to move.
   */
  async fetch(
    topic: string,
    partition: number,
    offset: number,
    options: { maxBytes: number; maxWaitMs: number },
  ): Promise<FetchedRecords> {
    this.connected ??= this.cluster.connect().catch((error: unknown) => {
      this.connected = undefined;
      throw error;
    });
    await this.connected;
    if (!this.topics.has(topic)) {
      await this.cluster.addTargetTopic(topic);
      await this.cluster.refreshMetadata();
      this.topics.add(topic);
    }
    let nodeId = Object.keys(this.cluster.findLeaderForPartitions(topic, [partition]))[0];
    if (nodeId === undefined) {
      await this.cluster.refreshMetadata();
      nodeId = Object.keys(this.cluster.findLeaderForPartitions(topic, [partition]))[0];
      if (nodeId === undefined) throw new Error(`no leader known for ${topic}[${partition}]`);
    }
    const broker = await this.cluster.findBroker({ nodeId });
    let responses: Awaited<ReturnType<typeof broker.fetch>>['responses'];
    try {
      ({ responses } = await broker.fetch({
        isolationLevel: ISOLATION.READ_COMMITTED,
        maxWaitTime: options.maxWaitMs,
        minBytes: 1,
        maxBytes: options.maxBytes,
        topics: [{ topic, partitions: [{ partition, fetchOffset: String(offset), maxBytes: options.maxBytes }] }],
      }));
    } catch (error) {
      // A moved leader or a reconnect: ask for metadata again next time.
      this.topics.delete(topic);
      throw error;
    }
    const data = responses.find((r) => r.topicName === topic)?.partitions.find((p) => p.partition === partition);
    const raw = data?.messages ?? [];
    const last = raw.length > 0 ? Number(raw[raw.length - 1]?.offset) : Number.NaN;
    const lastStableOffset = Number(data?.lastStableOffset ?? -1);
    if (!data || raw.length === 0 || !(last >= offset)) return { records: [], next: offset, lastStableOffset };
    return { records: visibleRecords(raw, data.abortedTransactions ?? [], offset), next: last + 1, lastStableOffset };
  }

  async close(): Promise<void> {
    const connected = this.connected;
    this.connected = undefined;
    if (connected) await connected.then(() => this.cluster.disconnect()).catch(() => {});
  }
}

import type { Kafka } from 'kafkajs';
import { KafkaReadError } from '../errors.js';
import { type CommittedFetch, fetchCommitted } from './committedReader.js';
import { type BrokerLike, type ClusterLike, createCluster, ISOLATION } from './kafkajsInternals.js';
import { decodeKeyedRecords } from './keyedRecords.js';
import { fetchFailed, fetchPartition } from './rawFetch.js';

/**
 * Fetches a partition at a given offset, read_committed, on one long-lived connection: the reads of a stream at the
 * offsets an index names (guard/read/). `readCommitted` opens a cluster per call (metadata, connection), which costs
 * more than the few fetches such a read needs.
 *
 * The broker answers from the start of the record batch holding the offset, and at least one whole batch whatever
 * `maxBytes` says (KIP-74), so a small `maxBytes` fetches one batch. The answer is decoded here (`rawFetch.ts`), and of
 * its records only those of the key asked for are decoded whole (`keyedRecords.ts`); a compressed batch is read
 * through kafkajs, which decompresses.
 */
export type FetchedRecords = CommittedFetch;

export class OffsetFetcher {
  private readonly cluster: ClusterLike;
  private connected: Promise<void> | undefined;
  private readonly topics = new Set<string>();

  constructor(kafka: Kafka) {
    this.cluster = createCluster(kafka, ISOLATION.READ_COMMITTED);
  }

  /**
   * One fetch at `offset`: the committed records of `key` (of every key when none is given) from there. Answers no
   * records when `offset` is at the last stable offset (an open transaction before it) after waiting up to
   * `maxWaitMs` for it to move.
   */
  async fetch(
    topic: string,
    partition: number,
    offset: number,
    options: { maxBytes: number; maxWaitMs: number; key?: Buffer },
  ): Promise<FetchedRecords> {
    const broker = await this.leaderOf(topic, partition, offset);
    try {
      const fetched = await fetchPartition(broker, topic, partition, offset, options);
      if (!fetched) return { records: [], next: offset, lastStableOffset: -1 };
      if (fetched.errorCode !== 0) throw fetchFailed(topic, partition, offset, fetched.errorCode);
      const decoded = decodeKeyedRecords(fetched.records, fetched.aborted, offset, options.key);
      if (decoded.compressed && decoded.next === offset) {
        const committed = await fetchCommitted(broker, topic, partition, offset, options);
        const key = options.key;
        if (key) committed.records = committed.records.filter((r) => r.key !== null && key.equals(r.key));
        return committed;
      }
      return { records: decoded.records, next: decoded.next, lastStableOffset: fetched.lastStableOffset };
    } catch (error) {
      // A moved leader or a reconnect: ask for metadata again next time.
      this.topics.delete(topic);
      throw error;
    }
  }

  private async leaderOf(topic: string, partition: number, offset: number): Promise<BrokerLike> {
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
      if (nodeId === undefined)
        throw new KafkaReadError({ topic, partition, offset }, 'no leader is known', { retriable: true });
    }
    return this.cluster.findBroker({ nodeId });
  }

  async close(): Promise<void> {
    const connected = this.connected;
    this.connected = undefined;
    if (connected) await connected.then(() => this.cluster.disconnect()).catch(() => {});
  }
}

import { createRequire } from 'node:module';
import type { Kafka } from 'kafkajs';
import { visibleRecords } from './committedReader.js';
import { type ClusterLike, createCluster, ISOLATION, type RawRecord } from './kafkajsInternals.js';
import { parseKeyedBatches, UnsupportedBatchError } from './keyedBatches.js';

const require = createRequire(import.meta.url);

/**
 * Fetches a partition at a given offset, read_committed, on one long-lived connection: the reads of a stream at the
 * offsets an index names (guard/read/). `readCommitted` opens a cluster per call (metadata, connection), which costs
 * more than the few fetches such a read needs.
 *
 * The broker answers from the start of the record batch holding the offset, and at least one whole batch whatever
 * `maxBytes` says (KIP-74), so a small `maxBytes` fetches one batch. kafkajs decodes every record of what it gets,
 * headers included: at hundreds of records a batch, that decoding, not the round trip, was most of a fetch's cost
 * (bench:read). So when the caller names the key it wants, the fetch goes out as kafkajs builds it but its answer is
 * read here (Fetch v11, the version kafkajs speaks to Kafka 4) and only records of that key are decoded
 * (keyedBatches.ts). Another version, or a compressed batch, takes kafkajs' own path.
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
  private raw = true;

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
    options: { maxBytes: number; maxWaitMs: number; key?: Buffer },
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
    if (options.key && this.raw) {
      try {
        return await this.fetchRaw(broker as unknown as RawBroker, topic, partition, offset, options.key, options);
      } catch (error) {
        if (!(error instanceof UnsupportedBatchError)) {
          this.topics.delete(topic);
          throw error;
        }
        if (error.message.startsWith('fetch version')) this.raw = false;
      }
    }
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

  private async fetchRaw(
    broker: RawBroker,
    topic: string,
    partition: number,
    offset: number,
    key: Buffer,
    options: { maxBytes: number; maxWaitMs: number },
  ): Promise<FetchedRecords> {
    const build = broker.lookupRequest(FETCH_API_KEY, fetchRequests);
    const protocol = build({
      replicaId: -1,
      isolationLevel: ISOLATION.READ_COMMITTED,
      maxWaitTime: options.maxWaitMs,
      minBytes: 1,
      maxBytes: options.maxBytes,
      topics: [{ topic, partitions: [{ partition, fetchOffset: String(offset), maxBytes: options.maxBytes }] }],
      rackId: '',
    });
    if (protocol.request.apiVersion !== 11) {
      throw new UnsupportedBatchError(`fetch version ${protocol.request.apiVersion}`);
    }
    protocol.response = { decode: async (payload: Buffer) => payload, parse: async (payload: Buffer) => payload };
    const answer = await broker.connectionPool.send(protocol);
    const part = decodeFetchV11(answer).find((p) => p.topic === topic && p.partition === partition);
    if (!part) return { records: [], next: offset, lastStableOffset: -1 };
    if (part.errorCode !== 0)
      throw new Error(`fetch ${topic}[${partition}] at ${offset}: Kafka error ${part.errorCode}`);
    const { records, lastOffset } = parseKeyedBatches(part.records, key);
    if (!(lastOffset >= offset)) return { records: [], next: offset, lastStableOffset: part.lastStableOffset };
    return {
      records: visibleRecords(records, part.aborted, offset),
      next: lastOffset + 1,
      lastStableOffset: part.lastStableOffset,
    };
  }

  async close(): Promise<void> {
    const connected = this.connected;
    this.connected = undefined;
    if (connected) await connected.then(() => this.cluster.disconnect()).catch(() => {});
  }
}

const FETCH_API_KEY = 1;
const fetchRequests: unknown = require('kafkajs/src/protocol/requests/fetch/index.js');

interface RawProtocol {
  request: { apiVersion: number };
  response: { decode(payload: Buffer): Promise<Buffer>; parse(payload: Buffer): Promise<Buffer> };
}

/** What kafkajs 2.2.4's broker has beyond BrokerLike: its request lookup and its connections. */
interface RawBroker {
  lookupRequest(apiKey: number, definitions: unknown): (request: Record<string, unknown>) => RawProtocol;
  connectionPool: { send(request: RawProtocol): Promise<Buffer> };
}

interface RawPartition {
  topic: string;
  partition: number;
  errorCode: number;
  lastStableOffset: number;
  aborted: { producerId: string; firstOffset: string }[];
  records: Buffer;
}

/**
 * Fetch response v11: throttle_time_ms int32, error_code int16, session_id int32, [topic string, [partition int32,
 * error_code int16, high_watermark int64, last_stable_offset int64, log_start_offset int64, [producer_id int64,
 * first_offset int64], preferred_read_replica int32, records bytes]].
 */
function decodeFetchV11(b: Buffer): RawPartition[] {
  const out: RawPartition[] = [];
  let at = 10;
  const topics = b.readInt32BE(at);
  at += 4;
  for (let t = 0; t < topics; t++) {
    const nameLength = b.readInt16BE(at);
    const topic = b.toString('utf8', at + 2, at + 2 + nameLength);
    at += 2 + nameLength;
    const partitions = b.readInt32BE(at);
    at += 4;
    for (let p = 0; p < partitions; p++) {
      const partition = b.readInt32BE(at);
      const errorCode = b.readInt16BE(at + 4);
      const lastStableOffset = Number(b.readBigInt64BE(at + 14));
      at += 30;
      const abortedCount = b.readInt32BE(at);
      at += 4;
      const aborted: { producerId: string; firstOffset: string }[] = [];
      for (let a = 0; a < abortedCount; a++) {
        aborted.push({ producerId: String(b.readBigInt64BE(at)), firstOffset: String(b.readBigInt64BE(at + 8)) });
        at += 16;
      }
      at += 4; // preferred_read_replica
      const length = b.readInt32BE(at);
      at += 4;
      const records = b.subarray(at, at + Math.max(0, length));
      at += Math.max(0, length);
      out.push({ topic, partition, errorCode, lastStableOffset, aborted, records });
    }
  }
  return out;
}

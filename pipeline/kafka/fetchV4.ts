import type { AbortedTransaction } from './abortedTransactions.js';

/**
 * The Kafka Fetch request and response, version 4 (the oldest Kafka 4 serves, and the first with isolation levels
 * and aborted transactions), encoded and decoded by hand so that a partition's record set stays one Buffer slice
 * for the batch walk (recordBatches.ts) instead of kafkajs' object per record and header. Layouts from the Kafka protocol guide:
 *
 *   request   replica_id:int32 max_wait_ms:int32 min_bytes:int32 max_bytes:int32 isolation_level:int8
 *             [topic:string [partition:int32 fetch_offset:int64 partition_max_bytes:int32]]
 *   response  throttle_time_ms:int32 [topic:string [partition:int32 error_code:int16 high_watermark:int64
 *             last_stable_offset:int64 [producer_id:int64 first_offset:int64] records:bytes]]
 */

export const FETCH_API_KEY = 1;
export const FETCH_VERSION = 4;

export interface FetchRequest {
  maxWaitMs: number;
  minBytes: number;
  maxBytes: number;
  isolationLevel: number;
  topics: { topic: string; partitions: { partition: number; fetchOffset: number; maxBytes: number }[] }[];
}

export interface FetchedRecords {
  topic: string;
  partition: number;
  errorCode: number;
  highWatermark: number;
  lastStableOffset: number;
  aborted: AbortedTransaction[];
  /** The record set: a slice of the response, not a copy. */
  records: Buffer;
}

export function encodeFetchRequest(r: FetchRequest): Buffer {
  const topicBytes = r.topics.map((t) => Buffer.from(t.topic, 'utf8'));
  let size = 4 * 4 + 1 + 4;
  r.topics.forEach((t, i) => {
    size += 2 + (topicBytes[i] as Buffer).length + 4 + t.partitions.length * 16;
  });
  const b = Buffer.alloc(size);
  let at = b.writeInt32BE(-1, 0);
  at = b.writeInt32BE(r.maxWaitMs, at);
  at = b.writeInt32BE(r.minBytes, at);
  at = b.writeInt32BE(r.maxBytes, at);
  at = b.writeInt8(r.isolationLevel, at);
  at = b.writeInt32BE(r.topics.length, at);
  r.topics.forEach((t, i) => {
    const name = topicBytes[i] as Buffer;
    at = b.writeInt16BE(name.length, at);
    at += name.copy(b, at);
    at = b.writeInt32BE(t.partitions.length, at);
    for (const p of t.partitions) {
      at = b.writeInt32BE(p.partition, at);
      at = b.writeBigInt64BE(BigInt(p.fetchOffset), at);
      at = b.writeInt32BE(p.maxBytes, at);
    }
  });
  return b;
}

export function decodeFetchResponse(b: Buffer): FetchedRecords[] {
  const out: FetchedRecords[] = [];
  let at = 4; // throttle_time_ms
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
      const highWatermark = Number(b.readBigInt64BE(at + 6));
      const lastStableOffset = Number(b.readBigInt64BE(at + 14));
      at += 22;
      const abortedCount = b.readInt32BE(at);
      at += 4;
      const aborted: AbortedTransaction[] = [];
      for (let a = 0; a < abortedCount; a++) {
        aborted.push({ producerId: String(b.readBigInt64BE(at)), firstOffset: String(b.readBigInt64BE(at + 8)) });
        at += 16;
      }
      const length = b.readInt32BE(at);
      at += 4;
      const records = length > 0 ? b.subarray(at, at + length) : b.subarray(at, at);
      if (length > 0) at += length;
      out.push({ topic, partition, errorCode, highWatermark, lastStableOffset, aborted, records });
    }
  }
  return out;
}

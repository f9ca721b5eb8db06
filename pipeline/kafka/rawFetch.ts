import { KafkaReadError } from '../errors.js';
import {
  decodeFetchResponse,
  encodeFetchRequest,
  FETCH_API_KEY,
  FETCH_VERSION,
  type FetchedRecords,
} from './fetchV4.js';
import { type BrokerLike, ISOLATION } from './kafkajsInternals.js';

/**
 * One read_committed Fetch of one partition, sent on kafkajs' fetch connection to the broker but encoded and decoded
 * here (fetchV4.ts), so that the partition's record set stays one Buffer slice for the batch walk
 * (recordBatches.ts). Recovery (headerReader.ts) and stream reads (offsetFetcher.ts) both fetch this way.
 */
export async function fetchPartition(
  broker: BrokerLike,
  topic: string,
  partition: number,
  offset: number,
  options: { maxBytes: number; maxWaitMs: number },
): Promise<FetchedRecords | undefined> {
  const body = encodeFetchRequest({
    maxWaitMs: options.maxWaitMs,
    minBytes: options.maxWaitMs > 0 ? 1 : 0,
    maxBytes: options.maxBytes,
    isolationLevel: ISOLATION.READ_COMMITTED,
    topics: [{ topic, partitions: [{ partition, fetchOffset: offset, maxBytes: options.maxBytes }] }],
  });
  const raw = await broker.connectionPool.send({
    request: {
      apiKey: FETCH_API_KEY,
      apiVersion: FETCH_VERSION,
      apiName: 'Fetch',
      encode: async () => ({ buf: body, buffer: body }),
    },
    response: { decode: async (payload) => payload, parse: async (payload) => payload },
  });
  return decodeFetchResponse(raw).find((f) => f.topic === topic && f.partition === partition);
}

// Leadership moved (LEADER_NOT_AVAILABLE, NOT_LEADER_OR_FOLLOWER, FENCED_/UNKNOWN_LEADER_EPOCH): ask for metadata
// and fetch again. Anything else (a deleted topic, an offset out of range) ends the read.
const LEADERSHIP_MOVED = new Set([5, 6, 74, 75]);

/** Whether a fetch's error code only asks for fresh metadata. */
export function leadershipMoved(errorCode: number): boolean {
  return LEADERSHIP_MOVED.has(errorCode);
}

export function fetchFailed(topic: string, partition: number, offset: number, errorCode: number): KafkaReadError {
  return new KafkaReadError({ topic, partition, offset }, `the broker answered Kafka error code ${errorCode}`, {
    errorCode,
    retriable: leadershipMoved(errorCode),
  });
}

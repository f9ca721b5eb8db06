import type { Kafka } from 'kafkajs';

/**
 * kafkajs 2.2.4 (its final release) has no public API for two things kes needs: offsets without READ_COMMITTED
 * isolation, and fetching a partition range directly. Both go through its cluster object, reached here and only
 * here. The shapes below are what 2.2.4 provides; a test (committedReader.int.test.ts) proves them on the broker.
 */
export interface RawRecord {
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer | Buffer[] | undefined>;
  timestamp: string;
  isControlRecord: boolean;
  batchContext: { producerId: string; inTransaction: boolean };
}

export interface FetchedPartition {
  partition: number;
  highWatermark: string;
  lastStableOffset: string;
  abortedTransactions: { producerId: string; firstOffset: string }[];
  messages: RawRecord[];
}

/** A request kafkajs sends as given: `encode` returns the body (an Encoder-like holder), `decode` gets the raw body. */
export interface RawProtocolRequest {
  request: { apiKey: number; apiVersion: number; apiName: string; encode(): Promise<{ buf: Buffer; buffer: Buffer }> };
  response: { decode(payload: Buffer): Promise<Buffer>; parse(payload: Buffer): Promise<Buffer> };
}

export interface BrokerLike {
  /** The broker's connections; Fetch requests go on its own fetch connection. */
  connectionPool: { send(request: RawProtocolRequest): Promise<Buffer> };
  versions: Record<number, { minVersion: number; maxVersion: number } | undefined>;
  fetch(request: {
    isolationLevel: number;
    maxWaitTime: number;
    minBytes: number;
    maxBytes: number;
    topics: { topic: string; partitions: { partition: number; fetchOffset: string; maxBytes: number }[] }[];
  }): Promise<{ responses: { topicName: string; partitions: FetchedPartition[] }[] }>;
}

export interface ClusterLike {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  addTargetTopic(topic: string): Promise<void>;
  refreshMetadata(): Promise<void>;
  findTopicPartitionMetadata(topic: string): { partitionId: number }[];
  findLeaderForPartitions(topic: string, partitions: number[]): Record<string, number[]>;
  findBroker(options: { nodeId: string }): Promise<BrokerLike>;
  fetchTopicsOffset(
    topics: { topic: string; fromBeginning: boolean; partitions: { partition: number }[] }[],
  ): Promise<{ topic: string; partitions: { partition: number; offset: string }[] }[]>;
}

export const ISOLATION = { READ_UNCOMMITTED: 0, READ_COMMITTED: 1 } as const;

export function createCluster(kafka: Kafka, isolationLevel: number): ClusterLike {
  const symbol = Object.getOwnPropertySymbols(kafka).find((s) => s.description === 'private:Kafka:createCluster');
  if (!symbol) throw new Error('kafkajs internals changed: no cluster factory (kes expects kafkajs 2.2.x)');
  const factory = (kafka as unknown as Record<symbol, (options: object) => ClusterLike>)[symbol];
  if (typeof factory !== 'function') throw new Error('kafkajs internals changed: cluster factory is not a function');
  return factory.call(kafka, { allowAutoTopicCreation: false, isolationLevel });
}

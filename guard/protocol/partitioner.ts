import { Partitioners } from 'kafkajs';

/**
 * The partition of a stream: Kafka's default (murmur2 of the key, as the Java client computes it), so other
 * clients that key by stream name agree. The guard computes it itself because the stream's partition decides
 * which Redis keys its compare-and-swap touches before anything is produced.
 */
const partitioner = Partitioners.DefaultPartitioner();
const metadataCache = new Map<number, { partitionId: number; leader: number }[]>();

export function partitionOf(stream: string, partitions: number): number {
  let metadata = metadataCache.get(partitions);
  if (!metadata) {
    metadata = Array.from({ length: partitions }, (_, partitionId) => ({ partitionId, leader: 0 }));
    metadataCache.set(partitions, metadata);
  }
  return partitioner({
    topic: '',
    partitionMetadata: metadata as never,
    message: { key: stream, value: null },
  });
}

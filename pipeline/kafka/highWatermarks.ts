import type { Kafka } from 'kafkajs';
import { type ClusterLike, createCluster, ISOLATION } from './kafkajsInternals.js';

/**
 * High watermarks (the end of each partition's log, open transactions included).
 *
 * kafkajs' admin `fetchTopicOffsets` asks for offsets with READ_COMMITTED isolation, which answers the last stable
 * offset: an open transaction of one producer hides everything after its first record. Recovery needs the real end
 * (after fencing a producer, its records, committed or not, lie below the high watermark), and kafkajs has no public
 * way to ask. kafkajs 2.2.4 is its final release, so this reaches into its cluster factory once, here, and asks
 * ListOffsets with READ_UNCOMMITTED. `high watermarks` answered here are upper bounds of everything appended
 * before the call.
 */

export class HighWatermarks {
  private readonly cluster: ClusterLike;
  private connected: Promise<void> | undefined;

  constructor(kafka: Kafka) {
    this.cluster = createCluster(kafka, ISOLATION.READ_UNCOMMITTED);
  }

  /** partition -> high watermark (the offset the next record will get) for every partition of `topic`. */
  async of(topic: string): Promise<Map<number, number>> {
    this.connected ??= this.cluster.connect();
    await this.connected;
    await this.cluster.addTargetTopic(topic);
    await this.cluster.refreshMetadata();
    const partitions = this.cluster.findTopicPartitionMetadata(topic).map((p) => ({ partition: p.partitionId }));
    const [result] = await this.cluster.fetchTopicsOffset([{ topic, fromBeginning: false, partitions }]);
    return new Map((result?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
  }

  async close(): Promise<void> {
    if (this.connected) await this.cluster.disconnect();
    this.connected = undefined;
  }
}

import type { Kafka } from 'kafkajs';
import { KafkaReadError } from '../errors.js';
import { type BrokerLike, type ClusterLike, createCluster, ISOLATION } from './kafkajsInternals.js';

export interface ReadRange {
  topic: string;
  partition: number;
  /** First offset to read. */
  from: number;
  /** Stop before this offset. */
  until: number;
}

/**
 * One fetch of `range` at `offset` from the partition's leader; returns where the next fetch starts (`offset` again
 * when nothing was ready). `refresh` asks for metadata again (leadership moved).
 */
export type RangeStep = (
  broker: BrokerLike,
  range: ReadRange,
  offset: number,
  refresh: () => Promise<void>,
) => Promise<number>;

/**
 * Reads ranges of partitions by direct fetches on a cluster of their own, several ranges at a time (`lanes`), each
 * range from its first offset to its end in steps; throws a retriable KafkaReadError when a range is not read within
 * `timeoutMs`. `readCommitted` (kafkajs decoding) and `readCommittedHeaders` (raw decoding) differ only in their step.
 */
export async function readRangesInLanes(
  kafka: Kafka,
  ranges: readonly ReadRange[],
  options: { timeoutMs: number; lanes: number },
  step: RangeStep,
): Promise<void> {
  const work = ranges.filter((r) => r.until > r.from);
  if (work.length === 0) return;
  const deadline = Date.now() + options.timeoutMs;
  const cluster = createCluster(kafka, ISOLATION.READ_COMMITTED);
  const refresh = () => cluster.refreshMetadata();
  await cluster.connect();
  try {
    for (const topic of new Set(work.map((r) => r.topic))) await cluster.addTargetTopic(topic);
    await cluster.refreshMetadata();
    await openFetchConnections(cluster, work);
    let next = 0;
    const lane = async () => {
      while (next < work.length) {
        const range = work[next++] as ReadRange;
        let offset = range.from;
        while (offset < range.until) {
          if (Date.now() > deadline) throw readTimedOut(range, offset, options.timeoutMs);
          const nodeId = Object.keys(cluster.findLeaderForPartitions(range.topic, [range.partition]))[0];
          if (nodeId === undefined) {
            await refresh();
            continue;
          }
          offset = await step(await cluster.findBroker({ nodeId }), range, offset, refresh);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(options.lanes, work.length) }, lane));
  } finally {
    await cluster.disconnect().catch(() => {});
  }
}

/**
 * kafkajs opens a broker's fetch connection on the first fetch, and concurrent first fetches each open one: all but
 * the last socket leak (a guard's recovery would leak sockets on every read, a CLI would never exit). One fetch per
 * leader, before the lanes start, opens it once.
 */
async function openFetchConnections(cluster: ClusterLike, ranges: readonly ReadRange[]): Promise<void> {
  const firstRangeOf = new Map<string, ReadRange>();
  for (const range of ranges) {
    for (const nodeId of Object.keys(cluster.findLeaderForPartitions(range.topic, [range.partition]))) {
      if (!firstRangeOf.has(nodeId)) firstRangeOf.set(nodeId, range);
    }
  }
  for (const [nodeId, range] of firstRangeOf) {
    const broker = await cluster.findBroker({ nodeId });
    await broker.fetch({
      isolationLevel: ISOLATION.READ_COMMITTED,
      maxWaitTime: 0,
      minBytes: 0,
      maxBytes: 1,
      topics: [
        {
          topic: range.topic,
          partitions: [{ partition: range.partition, fetchOffset: String(range.from), maxBytes: 1 }],
        },
      ],
    });
  }
}

/** A range not read within the caller's time: retriable (a broker restarting, a transaction left open). */
function readTimedOut(range: ReadRange, offset: number, timeoutMs: number): KafkaReadError {
  return new KafkaReadError(
    { topic: range.topic, partition: range.partition, offset },
    `the range ${range.from}..${range.until} was not read within ${timeoutMs} ms`,
    { retriable: true },
  );
}

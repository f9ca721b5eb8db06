import type { Kafka, KafkaMessage } from 'kafkajs';
import { type ClusterLike, createCluster, ISOLATION, type RawRecord } from './kafkajsInternals.js';

/**
 * Reads ranges of partitions as read_committed readers must see them: records of aborted (fenced) transactions
 * and transaction markers never reach `onRecords`.
 *
 * It fetches the partitions directly (no consumer group: nothing to join, nothing committed) and filters aborted
 * records itself, the way the Java consumer does: every aborted transaction the broker lists for the fetched range
 * whose first offset is at or before a record is active until its abort marker, and transactional records of an
 * active producer are dropped. kafkajs' own consumer activates only one listed transaction per record, so with
 * several aborted transactions interleaved in a partition (several guards, some fenced) it lets aborted records
 * through; kes found that in its fault tests, and does not use it for anything that must be exact.
 *
 * A range's end is usually a high watermark taken after a fence. The broker serves read_committed fetches only up
 * to the last stable offset, so reading up to that end waits for other producers' open transactions to finish
 * (commit, abort or time out), which is exactly what recovery needs.
 */

export interface ReadRange {
  topic: string;
  partition: number;
  /** First offset to read. */
  from: number;
  /** Stop before this offset. */
  until: number;
}

export interface CommittedRecords {
  topic: string;
  partition: number;
  messages: KafkaMessage[];
}

export interface ReadOptions {
  /** Give up (throw) if the ranges are not read within this time. @default 120000 */
  timeoutMs?: number;
  /** Bytes per fetch. @default 4 MiB */
  maxBytesPerPartition?: number;
}

const ABORT_MARKER = Buffer.from([0, 0, 0, 0]);

/** The records of one fetch that a read_committed reader may see (exported for unit tests). */
export function visibleRecords(
  records: readonly RawRecord[],
  abortedTransactions: readonly { producerId: string; firstOffset: string }[],
  fetchOffset: number,
): RawRecord[] {
  const pending = [...abortedTransactions].sort((a, b) => Number(a.firstOffset) - Number(b.firstOffset));
  const active = new Set<string>();
  const visible: RawRecord[] = [];
  for (const record of records) {
    const offset = Number(record.offset);
    while (pending.length > 0 && Number(pending[0]?.firstOffset) <= offset) {
      active.add(String(pending.shift()?.producerId));
    }
    const producerId = String(record.batchContext.producerId);
    if (record.isControlRecord) {
      if (record.key && Buffer.from(record.key).equals(ABORT_MARKER)) active.delete(producerId);
      continue;
    }
    if (offset < fetchOffset) continue;
    if (record.batchContext.inTransaction && active.has(producerId)) continue;
    visible.push(record);
  }
  return visible;
}

export async function readCommitted(
  kafka: Kafka,
  ranges: readonly ReadRange[],
  onRecords: (records: CommittedRecords) => void | Promise<void>,
  options: ReadOptions = {},
): Promise<void> {
  const work = ranges.filter((r) => r.until > r.from);
  if (work.length === 0) return;
  const timeoutMs = options.timeoutMs ?? 120_000;
  const deadline = Date.now() + timeoutMs;
  const maxBytes = options.maxBytesPerPartition ?? 4 * 1024 * 1024;
  const cluster = createCluster(kafka, ISOLATION.READ_COMMITTED);
  await cluster.connect();
  try {
    for (const topic of new Set(work.map((r) => r.topic))) await cluster.addTargetTopic(topic);
    await cluster.refreshMetadata();
    await openFetchConnections(cluster, work);
    // Partitions are read one after the other per caller, in parallel across ranges (bounded).
    let next = 0;
    const lane = async () => {
      while (next < work.length) {
        const range = work[next++] as ReadRange;
        await readRange(cluster, range, onRecords, deadline, timeoutMs, maxBytes);
      }
    };
    await Promise.all(Array.from({ length: Math.min(4, work.length) }, lane));
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

async function readRange(
  cluster: ClusterLike,
  range: ReadRange,
  onRecords: (records: CommittedRecords) => void | Promise<void>,
  deadline: number,
  timeoutMs: number,
  maxBytes: number,
): Promise<void> {
  const { topic, partition } = range;
  let offset = range.from;
  while (offset < range.until) {
    if (Date.now() > deadline) {
      throw new Error(
        `reading ${topic}[${partition}] ${range.from}..${range.until} timed out after ${timeoutMs} ms at ${offset}`,
      );
    }
    const leaders = cluster.findLeaderForPartitions(topic, [partition]);
    const nodeId = Object.keys(leaders)[0];
    if (nodeId === undefined) {
      await cluster.refreshMetadata();
      continue;
    }
    const broker = await cluster.findBroker({ nodeId });
    const { responses } = await broker.fetch({
      isolationLevel: ISOLATION.READ_COMMITTED,
      maxWaitTime: 200,
      minBytes: 1,
      maxBytes,
      topics: [{ topic, partitions: [{ partition, fetchOffset: String(offset), maxBytes }] }],
    });
    const data = responses.find((r) => r.topicName === topic)?.partitions.find((p) => p.partition === partition);
    const records = data?.messages ?? [];
    const last = records.length > 0 ? Number(records[records.length - 1]?.offset) : Number.NaN;
    if (!data || records.length === 0 || !(last >= offset)) continue; // at the last stable offset: wait for it to move
    const visible = visibleRecords(records, data.abortedTransactions ?? [], offset).filter(
      (r) => Number(r.offset) < range.until,
    );
    if (visible.length > 0) {
      await onRecords({ topic, partition, messages: visible as unknown as KafkaMessage[] });
    }
    offset = last + 1;
  }
}

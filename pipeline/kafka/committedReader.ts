import type { Kafka, KafkaMessage } from 'kafkajs';
import { AbortedFilter, type AbortedTransaction } from './abortedTransactions.js';
import { type BrokerLike, ISOLATION, type RawRecord } from './kafkajsInternals.js';
import { type ReadRange, readRangesInLanes } from './rangeLanes.js';

/**
 * Reads ranges of partitions as read_committed readers must see them: records of aborted (fenced) transactions
 * and transaction markers never reach `onRecords`.
 *
 * It fetches the partitions directly (no consumer group: nothing to join, nothing committed) and filters aborted
 * records itself, the way the Java consumer does (`AbortedFilter`). kafkajs' own consumer activates only one listed
 * transaction per record, so with several aborted transactions interleaved in a partition (several guards, some
 * fenced) it lets aborted records through; kes found that in its fault tests, and does not use it for anything that
 * must be exact. The ranges are read in lanes (`rangeLanes.ts`) like the header reader's.
 *
 * A range's end is usually a high watermark taken after a fence. The broker serves read_committed fetches only up
 * to the last stable offset, so reading up to that end waits for other producers' open transactions to finish
 * (commit, abort or time out), which is exactly what recovery needs.
 */

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
  abortedTransactions: readonly AbortedTransaction[],
  fetchOffset: number,
): RawRecord[] {
  const filter = new AbortedFilter(abortedTransactions);
  const visible: RawRecord[] = [];
  for (const record of records) {
    const offset = Number(record.offset);
    filter.reach(offset);
    const producerId = String(record.batchContext.producerId);
    if (record.isControlRecord) {
      if (record.key && Buffer.from(record.key).equals(ABORT_MARKER)) filter.abortMarker(producerId);
      continue;
    }
    if (offset < fetchOffset) continue;
    if (record.batchContext.inTransaction && filter.aborted(producerId)) continue;
    visible.push(record);
  }
  return visible;
}

export interface CommittedFetch {
  /** Committed records at or after the offset asked for (aborted ones and transaction markers removed). */
  records: RawRecord[];
  /** The offset to fetch next: after the last record fetched (markers and aborted records included). */
  next: number;
  /** The broker's last stable offset: read_committed fetches answer nothing at or beyond it (-1 when unknown). */
  lastStableOffset: number;
}

/**
 * One read_committed fetch of a partition through kafkajs, which decodes (and decompresses) every record. The raw
 * readers (headerReader.ts, offsetFetcher.ts) fall back to it for compressed batches. `next` is `offset` when nothing
 * was ready (at the last stable offset, after waiting up to `maxWaitMs`).
 */
export async function fetchCommitted(
  broker: BrokerLike,
  topic: string,
  partition: number,
  offset: number,
  options: { maxBytes: number; maxWaitMs: number },
): Promise<CommittedFetch> {
  const { responses } = await broker.fetch({
    isolationLevel: ISOLATION.READ_COMMITTED,
    maxWaitTime: options.maxWaitMs,
    minBytes: 1,
    maxBytes: options.maxBytes,
    topics: [{ topic, partitions: [{ partition, fetchOffset: String(offset), maxBytes: options.maxBytes }] }],
  });
  const data = responses.find((r) => r.topicName === topic)?.partitions.find((p) => p.partition === partition);
  const lastStableOffset = Number(data?.lastStableOffset ?? -1);
  const raw = data?.messages ?? [];
  const last = raw.length > 0 ? Number(raw[raw.length - 1]?.offset) : Number.NaN;
  if (!data || !(last >= offset)) return { records: [], next: offset, lastStableOffset };
  return { records: visibleRecords(raw, data.abortedTransactions ?? [], offset), next: last + 1, lastStableOffset };
}

export async function readCommitted(
  kafka: Kafka,
  ranges: readonly ReadRange[],
  onRecords: (records: CommittedRecords) => void | Promise<void>,
  options: ReadOptions = {},
): Promise<void> {
  const maxBytes = options.maxBytesPerPartition ?? 4 * 1024 * 1024;
  await readRangesInLanes(
    kafka,
    ranges,
    { timeoutMs: options.timeoutMs ?? 120_000, lanes: 4 },
    async (broker, range, offset) => {
      const { topic, partition } = range;
      const fetched = await fetchCommitted(broker, topic, partition, offset, { maxBytes, maxWaitMs: 200 });
      const visible = fetched.records.filter((r) => Number(r.offset) < range.until);
      if (visible.length > 0) await onRecords({ topic, partition, messages: visible as unknown as KafkaMessage[] });
      // Unchanged when nothing was ready (at the last stable offset): the next fetch waits for it to move.
      return fetched.next;
    },
  );
}

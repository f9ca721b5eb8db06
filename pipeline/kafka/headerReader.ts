import type { Kafka } from 'kafkajs';
import { fetchCommitted } from './committedReader.js';
import { decodeHeaderColumns, emptyColumns, type HeaderColumns, type HeaderKeys, headerKeys } from './headerColumns.js';
import type { BrokerLike } from './kafkajsInternals.js';
import { type ReadRange, readRangesInLanes } from './rangeLanes.js';
import { fetchFailed, fetchPartition, leadershipMoved } from './rawFetch.js';

/**
 * Reads ranges of partitions as read_committed readers see them, like `readCommitted`, but hands over only each
 * visible record's offset and a few named headers, as columns (`headerColumns.ts`), decoded in place from raw Fetch
 * answers (`rawFetch.ts`): several times faster than kafkajs' decoding of whole records. Recovery, which reads the log
 * for five headers, uses it (docs/guard.md, "Rebuilding"). A compressed batch (kes never writes one; another producer
 * might) is read through kafkajs instead.
 *
 * Tested by: pipeline/kafka/headerReader.int.test.ts (same records as readCommitted, aborted transactions of
 * interleaved producers included); the decoding by headerColumns.unit.test.ts and fetchV4.unit.test.ts.
 */

export interface HeaderReadOptions {
  /** Give up (throw) if the ranges are not read within this time. @default 120000 */
  timeoutMs?: number;
  /** Bytes per partition and fetch. @default 8 MiB */
  maxBytesPerPartition?: number;
  /** Partitions read at once. @default 4 */
  lanes?: number;
}

export interface HeaderRecords extends HeaderColumns {
  topic: string;
  partition: number;
}

export async function readCommittedHeaders(
  kafka: Kafka,
  ranges: readonly ReadRange[],
  /** Per column, the header's name, or its names (current first, then older ones a record may carry instead). */
  names: readonly (string | readonly string[])[],
  onRecords: (records: HeaderRecords) => void | Promise<void>,
  options: HeaderReadOptions = {},
): Promise<void> {
  const maxBytes = options.maxBytesPerPartition ?? 8 * 1024 * 1024;
  const keys = headerKeys(names);
  await readRangesInLanes(
    kafka,
    ranges,
    { timeoutMs: options.timeoutMs ?? 120_000, lanes: options.lanes ?? 4 },
    (broker, range, offset, refresh) => readOnce(broker, range, offset, refresh, keys, maxBytes, onRecords),
  );
}

/** One fetch of a range at `offset`; returns where the next one starts (the same offset when nothing was ready). */
async function readOnce(
  broker: BrokerLike,
  range: ReadRange,
  offset: number,
  refresh: () => Promise<void>,
  keys: HeaderKeys,
  maxBytes: number,
  onRecords: (records: HeaderRecords) => void | Promise<void>,
): Promise<number> {
  const { topic, partition } = range;
  const fetched = await fetchPartition(broker, topic, partition, offset, { maxBytes, maxWaitMs: 200 });
  if (!fetched) return offset;
  if (fetched.errorCode !== 0) {
    if (!leadershipMoved(fetched.errorCode)) throw fetchFailed(topic, partition, offset, fetched.errorCode);
    await refresh();
    return offset;
  }
  const out = emptyColumns(keys.width);
  const walked = decodeHeaderColumns(fetched.records, fetched.aborted, offset, range.until, keys, out);
  if (out.offsets.length > 0) await onRecords({ topic, partition, ...out });
  if (!walked.compressed) return walked.next; // unchanged when nothing was ready: the next fetch waits up to 200 ms
  // A compressed batch: one fetch through kafkajs, which decompresses; its headers become columns.
  const committed = await fetchCommitted(broker, topic, partition, walked.next, { maxBytes, maxWaitMs: 200 });
  const columns = emptyColumns(keys.width);
  for (const r of committed.records) {
    if (Number(r.offset) >= range.until) continue;
    columns.offsets.push(Number(r.offset));
    for (const column of columns.values) column.push(undefined);
    keys.bytes.forEach((key, k) => {
      const value = r.headers[key.toString('utf8')];
      const one = Array.isArray(value) ? value[0] : value;
      const values = columns.values[keys.column[k] as number] as (string | undefined)[];
      if (one !== undefined && values[values.length - 1] === undefined)
        values[values.length - 1] = one.toString('utf8');
    });
  }
  if (columns.offsets.length > 0) await onRecords({ topic, partition, ...columns });
  return committed.next;
}

import type { Kafka } from 'kafkajs';
import { KesError } from '../errors.js';
import type { ReadRange } from './committedReader.js';
import { visibleRecords } from './committedReader.js';
import {
  decodeFetchResponse,
  encodeFetchRequest,
  FETCH_API_KEY,
  FETCH_VERSION,
  type FetchedRecords,
} from './fetchV4.js';
import { type BrokerLike, type ClusterLike, createCluster, ISOLATION } from './kafkajsInternals.js';
import { decodeRecordBatches, emptyColumns, type HeaderColumns, type HeaderKeys, headerKeys } from './recordBatches.js';

/**
 * Reads ranges of partitions as read_committed readers see them, like `readCommitted`, but hands over only each
 * visible record's offset and a few named headers, as columns. It sends Fetch requests itself on kafkajs' fetch
 * connection and decodes the record batches in place (`recordBatches.ts`), several times faster than kafkajs'
 * decoding of whole records; recovery, which reads the log for five headers, uses it (docs/guard.md, "Rebuilding").
 * A compressed batch (kes never writes one; another producer might) is read through kafkajs instead.
 *
 * Tested by: pipeline/kafka/headerReader.int.test.ts (same records as readCommitted, aborted transactions of
 * interleaved producers included); the decoding by recordBatches.unit.test.ts and fetchV4.unit.test.ts.
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

/** A fetch answered with an error kes does not retry (the range cannot be read as asked). */
export class FetchError extends KesError {
  constructor(topic: string, partition: number, offset: number, errorCode: number) {
    super(
      'KES_FETCH_FAILED',
      `fetching ${topic}[${partition}] at ${offset} failed with Kafka error code ${errorCode}`,
      {
        context: { topic, partition, offset, errorCode },
      },
    );
  }
}

// Leadership moved (LEADER_NOT_AVAILABLE, NOT_LEADER_OR_FOLLOWER, FENCED_/UNKNOWN_LEADER_EPOCH): refresh the
// metadata and fetch again. Anything else (a deleted topic, an offset out of range) ends the read with a FetchError.
const RETRIABLE = new Set([5, 6, 74, 75]);

export async function readCommittedHeaders(
  kafka: Kafka,
  ranges: readonly ReadRange[],
  /** Per column, the header's name, or its names (current first, then older ones a record may carry instead). */
  names: readonly (string | readonly string[])[],
  onRecords: (records: HeaderRecords) => void | Promise<void>,
  options: HeaderReadOptions = {},
): Promise<void> {
  const work = ranges.filter((r) => r.until > r.from);
  if (work.length === 0) return;
  const timeoutMs = options.timeoutMs ?? 120_000;
  const deadline = Date.now() + timeoutMs;
  const maxBytes = options.maxBytesPerPartition ?? 8 * 1024 * 1024;
  const keys = headerKeys(names);
  const cluster = createCluster(kafka, ISOLATION.READ_COMMITTED);
  await cluster.connect();
  try {
    for (const topic of new Set(work.map((r) => r.topic))) await cluster.addTargetTopic(topic);
    await cluster.refreshMetadata();
    // kafkajs opens a broker's fetch connection on first use, and concurrent first uses each open one (all but the
    // last leak, see committedReader.ts): one small fetch per leader, before the lanes start, opens it once.
    const leaders = new Map<string, ReadRange>();
    for (const r of work) {
      const nodeId = Object.keys(cluster.findLeaderForPartitions(r.topic, [r.partition]))[0];
      if (nodeId !== undefined && !leaders.has(nodeId)) leaders.set(nodeId, r);
    }
    for (const [nodeId, r] of leaders)
      await fetchRaw(await cluster.findBroker({ nodeId }), r.topic, r.partition, r.from, 1, 0);
    let next = 0;
    const lane = async () => {
      while (next < work.length) {
        const range = work[next++] as ReadRange;
        let offset = range.from;
        while (offset < range.until) {
          if (Date.now() > deadline) {
            throw new KesError(
              'KES_FETCH_FAILED',
              `reading ${range.topic}[${range.partition}] ${range.from}..${range.until} timed out after ${timeoutMs} ms at ${offset}`,
              { retriable: true, context: { ...range, offset, timeoutMs } },
            );
          }
          offset = await readOnce(cluster, range, offset, keys, maxBytes, onRecords);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(options.lanes ?? 4, work.length) }, lane));
  } finally {
    await cluster.disconnect().catch(() => {});
  }
}

/** One fetch of a range at `offset`; returns where the next one starts (the same offset when nothing was ready). */
async function readOnce(
  cluster: ClusterLike,
  range: ReadRange,
  offset: number,
  keys: HeaderKeys,
  maxBytes: number,
  onRecords: (records: HeaderRecords) => void | Promise<void>,
): Promise<number> {
  const { topic, partition } = range;
  const nodeId = Object.keys(cluster.findLeaderForPartitions(topic, [partition]))[0];
  if (nodeId === undefined) {
    await cluster.refreshMetadata();
    return offset;
  }
  const broker = await cluster.findBroker({ nodeId });
  const fetched = (await fetchRaw(broker, topic, partition, offset, maxBytes)).find(
    (f) => f.topic === topic && f.partition === partition,
  );
  if (!fetched) return offset;
  if (fetched.errorCode !== 0) {
    if (!RETRIABLE.has(fetched.errorCode)) throw new FetchError(topic, partition, offset, fetched.errorCode);
    await cluster.refreshMetadata();
    return offset;
  }
  const out = emptyColumns(keys.width);
  const decoded = decodeRecordBatches(fetched.records, fetched.aborted, offset, range.until, keys, out);
  if (out.offsets.length > 0) await onRecords({ topic, partition, ...out });
  if (decoded.compressed) return readThroughKafkajs(broker, range, decoded.next, keys, maxBytes, onRecords);
  // Nothing complete yet (at the last stable offset, or an empty partition end): the next fetch waits up to 200 ms.
  return decoded.next;
}

async function fetchRaw(
  broker: BrokerLike,
  topic: string,
  partition: number,
  offset: number,
  maxBytes: number,
  maxWaitMs = 200,
): Promise<FetchedRecords[]> {
  const body = encodeFetchRequest({
    maxWaitMs,
    minBytes: maxWaitMs > 0 ? 1 : 0,
    maxBytes,
    isolationLevel: ISOLATION.READ_COMMITTED,
    topics: [{ topic, partitions: [{ partition, fetchOffset: offset, maxBytes }] }],
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
  return decodeFetchResponse(raw);
}

/** A compressed batch: one fetch through kafkajs, which decompresses; its headers become columns. */
async function readThroughKafkajs(
  broker: BrokerLike,
  range: ReadRange,
  offset: number,
  keys: HeaderKeys,
  maxBytes: number,
  onRecords: (records: HeaderRecords) => void | Promise<void>,
): Promise<number> {
  const { topic, partition } = range;
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
  if (!data || !(last >= offset)) return offset;
  const out = emptyColumns(keys.width);
  for (const r of visibleRecords(records, data.abortedTransactions ?? [], offset)) {
    if (Number(r.offset) >= range.until) continue;
    out.offsets.push(Number(r.offset));
    for (const column of out.values) column.push(undefined);
    keys.bytes.forEach((key, k) => {
      const value = r.headers[key.toString('utf8')];
      const one = Array.isArray(value) ? value[0] : value;
      const c = keys.column[k] as number;
      const values = out.values[c] as (string | undefined)[];
      if (one !== undefined && values[values.length - 1] === undefined)
        values[values.length - 1] = one.toString('utf8');
    });
  }
  if (out.offsets.length > 0) await onRecords({ topic, partition, ...out });
  return last + 1;
}

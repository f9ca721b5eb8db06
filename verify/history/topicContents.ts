import type { Kafka, KafkaMessage } from 'kafkajs';
import { decodeHeaders } from '../../pipeline/events/eventRecord.js';
import { categoryOfTopic } from '../../pipeline/events/streamName.js';
import { readCommitted } from '../../pipeline/kafka/committedReader.js';
import { HighWatermarks } from '../../pipeline/kafka/highWatermarks.js';
import type { CommittedEvent, ForeignRecord } from './committedEvents.js';
import { compareEvents } from './positions.js';

/**
 * Everything committed in the category topics under a prefix, as read_committed consumers see it: records of
 * aborted transactions and transaction markers are never seen. Only the fields the checker needs are kept (no
 * message buffers), and repeated strings (topics, streams, types) are shared, so a million events fit in a few
 * hundred MB.
 */

export interface ReadEventsOptions {
  /** Category topics are `<prefix><category>`; Kafka's internal topics (`__…`) are never read. */
  topicPrefix: string;
  /** Called at most every `progressIntervalMs` while reading, and once at the end. */
  onProgress?: (progress: ReadProgress) => void;
  /** @default 1000 */
  progressIntervalMs?: number;
  /** Give up when the whole read takes longer. @default 600000 */
  timeoutMs?: number;
}

export interface ReadProgress {
  /** Records read so far (kes events and foreign records). */
  records: number;
  /** Sum of the high watermarks: an upper bound of the records to read (it counts markers and aborted records). */
  upperBound: number;
  topics: number;
  partitions: number;
  done: boolean;
}

export interface TopicContents {
  /** Sorted by topic, partition, offset. */
  events: CommittedEvent[];
  /** Every partition read, empty ones included, with the high watermark it was read up to. */
  partitions: { topic: string; partition: number; highWatermark: number }[];
  /** Records without (valid) kes headers. */
  foreign: ForeignRecord[];
}

/** The category topics under `prefix` on the broker, sorted. */
export async function categoryTopics(kafka: Kafka, prefix: string): Promise<string[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const topics = await admin.listTopics();
    return topics.filter((t) => !t.startsWith('__') && categoryOfTopic(prefix, t) !== undefined).sort();
  } finally {
    await admin.disconnect();
  }
}

export async function readTopicContents(kafka: Kafka, options: ReadEventsOptions): Promise<TopicContents> {
  const topics = await categoryTopics(kafka, options.topicPrefix);
  const watermarks = new HighWatermarks(kafka);
  const partitions: TopicContents['partitions'] = [];
  try {
    for (const topic of topics) {
      const high = await watermarks.of(topic);
      for (const [partition, highWatermark] of high) partitions.push({ topic, partition, highWatermark });
    }
  } finally {
    await watermarks.close();
  }
  partitions.sort((a, b) => compareEvents({ ...a, offset: 0 }, { ...b, offset: 0 }));

  const perPartition = new Map<string, { events: CommittedEvent[]; last: number }>();
  const foreign: ForeignRecord[] = [];
  const strings = new Map<string, string>();
  const intern = (s: string): string => {
    const known = strings.get(s);
    if (known !== undefined) return known;
    strings.set(s, s);
    return s;
  };
  const upperBound = partitions.reduce((sum, p) => sum + p.highWatermark, 0);
  let records = 0;
  const interval = options.progressIntervalMs ?? 1000;
  let lastProgress = Date.now();
  const progress = (done: boolean) =>
    options.onProgress?.({ records, upperBound, topics: topics.length, partitions: partitions.length, done });

  await readCommitted(
    kafka,
    partitions.map((p) => ({ topic: p.topic, partition: p.partition, from: 0, until: p.highWatermark })),
    ({ topic, partition, messages }) => {
      const k = `${topic}\u0000${partition}`;
      let into = perPartition.get(k);
      if (!into) {
        into = { events: [], last: -1 };
        perPartition.set(k, into);
      }
      const t = intern(topic);
      for (const m of messages) {
        const offset = Number(m.offset);
        if (offset <= into.last) continue; // a batch fetched again: keep each offset once
        into.last = offset;
        records++;
        const event = toEvent(t, partition, offset, m, intern);
        if ('reason' in event) foreign.push(event);
        else into.events.push(event);
      }
      if (Date.now() - lastProgress >= interval) {
        lastProgress = Date.now();
        progress(false);
      }
    },
    { timeoutMs: options.timeoutMs ?? 600_000 },
  );
  progress(true);

  const events: CommittedEvent[] = [];
  for (const p of partitions) {
    const read = perPartition.get(`${p.topic}\u0000${p.partition}`);
    if (read) for (const e of read.events) events.push(e);
  }
  return { events, partitions, foreign };
}

/**
 * The committed events of every category topic under the prefix, sorted by topic, partition, offset. Records
 * without kes headers are passed to `onForeignRecord` (default: ignored), never crashed on.
 */
export async function readCommittedEvents(
  kafka: Kafka,
  options: ReadEventsOptions & { onForeignRecord?: (record: ForeignRecord) => void },
): Promise<CommittedEvent[]> {
  const contents = await readTopicContents(kafka, options);
  for (const r of contents.foreign) options.onForeignRecord?.(r);
  return contents.events;
}

function toEvent(
  topic: string,
  partition: number,
  offset: number,
  m: KafkaMessage,
  intern: (s: string) => string,
): CommittedEvent | ForeignRecord {
  let headers: ReturnType<typeof decodeHeaders>;
  try {
    headers = decodeHeaders(m.headers);
  } catch (error) {
    // decodeHeaders parses kes-metadata as JSON.
    return { topic, partition, offset, reason: `bad kes headers: ${error instanceof Error ? error.message : error}` };
  }
  if (!headers) return { topic, partition, offset, reason: 'missing or malformed kes headers' };
  // Every record read here comes from kafkajs' record-batch decoder, which keeps its batch's producer.
  const batch = (m as KafkaMessage & { batchContext?: { producerId?: unknown; producerEpoch?: unknown } }).batchContext;
  return {
    topic,
    partition,
    offset,
    stream: intern(headers.stream),
    version: headers.version,
    eventId: headers.eventId,
    type: intern(headers.type),
    timeMs: headers.timeMs,
    ...(batch?.producerId === undefined ? {} : { producerId: intern(String(batch.producerId)) }),
    ...(batch?.producerEpoch === undefined ? {} : { producerEpoch: Number(batch.producerEpoch) }),
  };
}

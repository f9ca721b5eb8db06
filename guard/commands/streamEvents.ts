import type { Kafka } from 'kafkajs';
import { NotReadyError } from '../../pipeline/errors.js';
import { decodeHeaders } from '../../pipeline/events/eventRecord.js';
import { readCommitted } from '../../pipeline/kafka/committedReader.js';
import type { HighWatermarks } from '../../pipeline/kafka/highWatermarks.js';
import type { EventCatalog } from '../../pipeline/schemas/eventCatalog.js';
import type { DomainEvent } from './decider.js';

/** One event of a stream, read back from Kafka and decoded with its writer schema. */
export interface StreamEvent extends DomainEvent {
  version: number;
  offset: number;
}

export interface StreamSlice {
  topic: string;
  partition: number;
  stream: string;
  /** First offset to read: the offset after a cached state's last event, or 0. */
  fromOffset: number;
  /** The version the caller already has (-1: none). */
  afterVersion: number;
  /** The version to read up to, inclusive: a committed version, so it is in Kafka below the high watermark. */
  untilVersion: number;
}

/**
 * Reads versions (afterVersion, untilVersion] of one stream from its partition, read_committed (aborted events of
 * fenced guards never count). Kafka has no per-stream index: this scans the partition from `fromOffset` to its high
 * watermark, which is why the command handler caches folded states and reads here only when its entry is missing
 * or behind. The slice must come back whole and in order, or the caller is told to retry: a gap would mean a
 * state that is not the state at `untilVersion`.
 */
export async function readStreamEvents(
  kafka: Kafka,
  watermarks: HighWatermarks,
  catalog: EventCatalog,
  slice: StreamSlice,
  timeoutMs = 30_000,
): Promise<StreamEvent[]> {
  if (slice.untilVersion <= slice.afterVersion) return [];
  const until = (await watermarks.of(slice.topic)).get(slice.partition) ?? 0;
  const found: { version: number; offset: number; type: string; value: Buffer }[] = [];
  await readCommitted(
    kafka,
    [{ topic: slice.topic, partition: slice.partition, from: slice.fromOffset, until }],
    ({ messages }) => {
      for (const message of messages) {
        if (message.key?.toString() !== slice.stream) continue;
        const headers = decodeHeaders(message.headers);
        if (!headers || headers.stream !== slice.stream) continue;
        if (headers.version <= slice.afterVersion || headers.version > slice.untilVersion) continue;
        if (message.value) {
          found.push({
            version: headers.version,
            offset: Number(message.offset),
            type: headers.type,
            value: message.value,
          });
        }
      }
    },
    { timeoutMs },
  );
  const events: StreamEvent[] = [];
  for (const record of found) {
    const expected = slice.afterVersion + 1 + events.length;
    if (record.version !== expected) break;
    const { data } = await catalog.decode(record.value);
    events.push({
      type: record.type,
      data: data as Record<string, unknown>,
      version: record.version,
      offset: record.offset,
    });
  }
  if (events.length !== slice.untilVersion - slice.afterVersion) {
    throw new NotReadyError(
      `stream ${slice.stream}: versions ${slice.afterVersion + 1}..${slice.untilVersion} are not all readable in ` +
        `${slice.topic}[${slice.partition}] from offset ${slice.fromOffset} yet (found ${events.length})`,
    );
  }
  return events;
}

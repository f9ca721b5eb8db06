import { encodeHeaders } from '../../pipeline/events/eventRecord.js';
import type { PreparedAppend } from '../append/preparedAppend.js';
import type { ReservedPartition } from './decideReserveAnswers.js';

export interface OutgoingMessage {
  key: string;
  value: Buffer;
  partition: number;
  headers: Record<string, string>;
  timestamp: string;
}

/**
 * The records of one group commit, per topic: keyed by stream, with the partition chosen when the append was
 * prepared (the one whose Redis keys reserved the versions), and the kes headers with each event's version. Topics
 * come in the order they first appear; within a topic the order is partition, then append, then event, which is
 * the offset order the confirmation later assumes.
 */
export function buildMessages<T extends { append: Pick<PreparedAppend, 'stream' | 'events' | 'traceparent'> }>(
  reserved: readonly ReservedPartition<T>[],
  timeMs: number,
): { topic: string; messages: OutgoingMessage[] }[] {
  const byTopic = new Map<string, OutgoingMessage[]>();
  for (const pg of reserved) {
    let messages = byTopic.get(pg.topic);
    if (!messages) {
      messages = [];
      byTopic.set(pg.topic, messages);
    }
    for (const r of pg.appends) {
      r.item.append.events.forEach((e, i) => {
        messages.push({
          key: r.item.append.stream,
          value: e.value,
          partition: pg.partition,
          timestamp: String(timeMs),
          headers: encodeHeaders({
            stream: r.item.append.stream,
            version: r.first + i,
            eventId: e.id,
            type: e.type,
            timeMs,
            contentHash: e.hash,
            ...(e.metadata === undefined ? {} : { metadata: e.metadata }),
            ...(r.item.append.traceparent === undefined ? {} : { traceparent: r.item.append.traceparent }),
          }),
        });
      });
    }
  }
  return [...byTopic].map(([topic, messages]) => ({ topic, messages }));
}

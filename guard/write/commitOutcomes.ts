import type { AppendOutcome } from '../append/appendOutcome.js';
import type { PreparedEvent } from '../append/preparedAppend.js';
import type { ConfirmEvent } from '../protocol/redisState.js';
import type { ReservedPartition } from './decideReserveAnswers.js';

/** What one partition's confirm script records: every event at its offset, and the partition's last offset. */
export interface PartitionConfirm {
  topic: string;
  partition: number;
  lastOffset: number;
  events: ConfirmEvent[];
}

/**
 * Maps a committed transaction to what Redis records and what each append is answered. The broker gives only each
 * partition's base offset; the events behind it follow in the order they were sent (buildMessages), so each event's
 * offset is the base plus its place, and an append's answer carries the offset of its last event. A partition the
 * broker did not report gets NaN offsets rather than invented ones.
 */
export function commitOutcomes<
  T extends { append: { stream: string; events: readonly Pick<PreparedEvent, 'id' | 'hash'>[] } },
>(
  reserved: readonly ReservedPartition<T>[],
  metadata: readonly { topicName: string; partition: number; baseOffset?: string }[],
): { confirms: PartitionConfirm[]; answers: { item: T; outcome: AppendOutcome }[] } {
  const base = new Map(metadata.map((m) => [`${m.topicName}:${m.partition}`, Number(m.baseOffset)]));
  const confirms: PartitionConfirm[] = [];
  const answers: { item: T; outcome: AppendOutcome }[] = [];
  for (const pg of reserved) {
    let offset = base.get(`${pg.topic}:${pg.partition}`) ?? Number.NaN;
    const events: ConfirmEvent[] = [];
    for (const r of pg.appends) {
      r.item.append.events.forEach((e, i) => {
        events.push({ id: e.id, stream: r.item.append.stream, version: r.first + i, offset, hash: e.hash });
        offset += 1;
      });
      answers.push({
        item: r.item,
        outcome: {
          stream: r.item.append.stream,
          firstVersion: r.first,
          lastVersion: r.last,
          topic: pg.topic,
          partition: pg.partition,
          offset: offset - 1,
          duplicate: false,
        },
      });
    }
    confirms.push({ topic: pg.topic, partition: pg.partition, lastOffset: offset - 1, events });
  }
  return { confirms, answers };
}

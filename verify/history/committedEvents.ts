import { compareEvents } from './positions.js';

/** One committed event as read_committed consumers see it, from its record's kes headers. */
export interface CommittedEvent {
  topic: string;
  partition: number;
  offset: number;
  stream: string;
  version: number;
  eventId: string;
  type: string;
  /** When the guard wrote it (kes-time, the group commit's time): tells a write after a refusal from one before. */
  timeMs?: number;
  /**
   * The producer id and epoch of the record's batch: with timeMs, what tells one transaction from another (an
   * atomic group must be in one). Absent in hand-built logs.
   */
  producerId?: string;
  producerEpoch?: number;
}

/** A record in a category topic without (valid) kes headers: nobody logged it, it is reported as unlogged. */
export interface ForeignRecord {
  topic: string;
  partition: number;
  offset: number;
  reason: string;
}

/** The committed events in offset order per partition: as given if they already are, else a sorted copy. */
export function inOffsetOrder(committed: readonly CommittedEvent[]): readonly CommittedEvent[] {
  for (let i = 1; i < committed.length; i++) {
    const a = committed[i - 1];
    const b = committed[i];
    if (a && b && compareEvents(a, b) > 0) return [...committed].sort(compareEvents);
  }
  return committed;
}

/** The partitions holding events, in the order of the (offset-ordered) events. */
export function uniquePartitions(events: readonly CommittedEvent[]): { topic: string; partition: number }[] {
  const out: { topic: string; partition: number }[] = [];
  let last: CommittedEvent | undefined;
  for (const e of events) {
    if (!last || last.topic !== e.topic || last.partition !== e.partition)
      out.push({ topic: e.topic, partition: e.partition });
    last = e;
  }
  return out;
}

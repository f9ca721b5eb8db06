import type { ReadRange } from '../../pipeline/kafka/rangeLanes.js';
import type { Reservation } from '../protocol/redisState.js';

/**
 * Where a rebuild reads a partition. `trusted` is what Redis still holds for it, absent when no generation record
 * exists (data lost: nothing in Redis is known to be a prefix of the history, so read from the start). Otherwise read
 * from just above the lowest of the partition's watermark and its open reservations' watermarks: a restored older
 * state is a prefix of the history, and in any prefix every committed event above those marks is either applied
 * or belongs to one of those reservations (docs/guard.md gives the argument). A partition never written has no
 * watermark (-1). `high` is the partition's end, taken after every slot was fenced.
 */
export function rebuildRange(
  topic: string,
  partition: number,
  high: number | undefined,
  trusted?: { watermark: string | null; pending: readonly Pick<Reservation, 'watermark'>[] },
): ReadRange {
  const from = trusted
    ? Math.min(Number(trusted.watermark ?? '-1'), ...trusted.pending.map((r) => r.watermark)) + 1
    : 0;
  return { topic, partition, from: Math.max(0, from), until: high ?? 0 };
}

/**
 * Where resolving a reservation reads: its events, if any, lie above the watermark it was made at, and below the
 * partition's end taken after its owner was fenced.
 */
export function resolveRange(
  topic: string,
  partition: number,
  reservation: Pick<Reservation, 'watermark'>,
  high: number | undefined,
): ReadRange {
  return { topic, partition, from: reservation.watermark + 1, until: high ?? 0 };
}

/**
 * The watermark a range earns once it is read to its end: its last offset. An empty partition earns none (the
 * watermark stays where it was).
 */
export function watermarkAfter(range: ReadRange): number | undefined {
  return range.until > 0 ? range.until - 1 : undefined;
}

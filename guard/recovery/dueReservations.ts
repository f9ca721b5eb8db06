import { parseReservation } from '../protocol/redisState.js';

export interface DueReservation {
  topic: string;
  partition: number;
  resId: string;
  slot: number;
  /** Left by an earlier incarnation of a slot this guard has just initialised (its epoch is already gone). */
  own: boolean;
}

/**
 * Which of a partition's reservations must be resolved now: those past their deadline (by Redis' clock, the one the
 * deadlines were written with), and with `ownSlot`, every reservation of that slot not made by the incarnation
 * whose ids start with `ownPrefix`: the earlier incarnation can no longer confirm them, so there is no need to wait
 * for their deadline.
 */
export function dueReservations(
  topic: string,
  partition: number,
  entries: Readonly<Record<string, string>>,
  nowMs: number,
  options: { ownSlot?: number; ownPrefix?: string } = {},
): DueReservation[] {
  const due: DueReservation[] = [];
  for (const [resId, text] of Object.entries(entries)) {
    const r = parseReservation(resId, text);
    const own = options.ownSlot === r.slot && options.ownPrefix !== undefined && !resId.startsWith(options.ownPrefix);
    if (own || r.deadlineMs < nowMs) due.push({ topic, partition, resId, slot: r.slot, own });
  }
  return due;
}

/**
 * The slots to fence before anything is read, each once. An own reservation's slot needs none: initialising it fenced
 * the earlier holder already, and fencing it again would fence this guard's own producer.
 */
export function slotsToFence(due: readonly DueReservation[]): number[] {
  return [...new Set(due.filter((d) => !d.own).map((d) => d.slot))];
}

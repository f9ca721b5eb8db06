/**
 * Cuts the next group commit from the front of the ready queue: appends whole (an append is never split) until the
 * next would take the group past `maxEvents`. The first append is taken whatever its size, so one larger than the
 * cap still gets written. A unit that must be `alone` (an atomic batch: it is released whole when any member is
 * refused, so it shares its transaction with nothing) is taken only as a group of its own. Appends past their
 * deadline on the way are set apart to be answered, not written; those behind the cut wait in `rest`.
 */
export function cutGroup<T extends { deadline: number }>(
  ready: readonly T[],
  maxEvents: number,
  now: number,
  eventsOf: (item: T) => number,
  alone: (item: T) => boolean = () => false,
): { group: T[]; expired: T[]; rest: T[] } {
  const group: T[] = [];
  const expired: T[] = [];
  let events = 0;
  let i = 0;
  for (; i < ready.length; i++) {
    const item = ready[i] as T;
    if (item.deadline <= now) {
      expired.push(item);
      continue;
    }
    if (group.length > 0 && (alone(item) || events + eventsOf(item) > maxEvents)) break;
    group.push(item);
    events += eventsOf(item);
    if (alone(item)) {
      i += 1;
      break;
    }
  }
  return { group, expired, rest: ready.slice(i) };
}

/**
 * Cuts the next group commit from the front of the ready queue: appends whole (an append is never split) until the
 * next would take the group past `maxEvents`. The first append is taken whatever its size, so one larger than the
 * cap still gets written. Appends past their deadline on the way are set apart to be answered, not written; those
 * behind the cut wait in `rest` for a later group.
 */
export function cutGroup<T extends { deadline: number; append: { events: readonly unknown[] } }>(
  ready: readonly T[],
  maxEvents: number,
  now: number,
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
    if (group.length > 0 && events + item.append.events.length > maxEvents) break;
    group.push(item);
    events += item.append.events.length;
  }
  return { group, expired, rest: ready.slice(i) };
}

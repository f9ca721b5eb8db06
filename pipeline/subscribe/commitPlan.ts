/**
 * What a partition's batch lets the subscription commit: the offset after the longest run of records, from the
 * batch's first, whose handlers have all finished. A record not finished (the subscription is closing, the
 * partition was revoked, its handler failed for good) and everything after it stay uncommitted, so the group
 * delivers them again: nothing is skipped, some events may come twice (at least once).
 *
 * When every record is finished, the commit moves past the batch's last offset, which may lie beyond its last
 * delivered record (transaction markers, records of aborted transactions): those are never delivered anyway.
 * Undefined when nothing of the batch may be committed.
 */
export function committableOffset(
  offsets: readonly number[],
  finished: readonly boolean[],
  batchLastOffset: number,
): number | undefined {
  let i = 0;
  while (i < offsets.length && finished[i] === true) i++;
  if (i === offsets.length) return batchLastOffset + 1;
  if (i === 0) return undefined;
  return (offsets[i - 1] as number) + 1;
}

/** Commits only move forward: a commit at or below the one already made by this member would redeliver events. */
export function advances(lastCommitted: number | undefined, next: number): boolean {
  return lastCommitted === undefined || next > lastCommitted;
}

import type { StartFrom } from './position.js';

export interface PartitionStart {
  topic: string;
  partition: number;
  /** The group's committed offset (the next to read), or undefined when the group never committed one. */
  committed: number | undefined;
  /** The partition's first and end offsets when the group took the partition. */
  low: number;
  high: number;
}

/**
 * The first offset to deliver on a partition just assigned, or undefined to resume where the group left off (or,
 * with no commit and `from: 'start'`, from the partition's first offset, which is where the consumer reads by
 * default). `from` counts only while the group has no committed offset for the partition: once one is committed,
 * the group resumes there whatever a later member says.
 *
 * The caller commits the offset it gets here at once, so that the start is fixed the first time a member of the
 * group decides it: a partition that moves to another member before any event was handled resumes at the same
 * place, instead of at that member's own (later) idea of the end.
 */
export function startOffset(from: StartFrom, p: PartitionStart): number | undefined {
  if (p.committed !== undefined) return undefined;
  if (from === 'start') return undefined;
  if (from === 'end') return p.high;
  const listed = from.find((q) => q.topic === p.topic && q.partition === p.partition);
  if (!listed) return undefined;
  // Offsets below the first one kept are gone (retention): start at the first that exists.
  return Math.max(listed.offset, p.low);
}

import { EventIdConflictError, type KesError } from '../../pipeline/errors.js';
import type { AppendOutcome } from '../append/appendOutcome.js';
import type { PartitionDecision, ReservedPartition } from './decideReserveAnswers.js';

/** A member of an atomic batch as the reserve step sees it: its place in the batch travels with it. */
export interface AtomicMember {
  index: number;
  append: { stream: string; events: readonly { id: string }[] };
}

/**
 * What to do with an atomic batch once every partition's reserve script answered. The batch is written only when
 * every member's versions were reserved; otherwise whatever was reserved is released and:
 *   - a member refused on its own (conflict, event id conflict) refuses the batch: `errors[i]` is member i's own
 *     error, the others carry none (they are answered `batch_aborted`);
 *   - every member answered from an earlier write (a retry of a batch that committed) answers the batch;
 *   - some members written before and some not cannot be one earlier atomic batch: the written ones are refused as
 *     event id conflicts;
 *   - a member that must wait (its stream locked by a reservation in flight) or a partition without a usable answer
 *     sends the whole batch back to the queue.
 * Refusals win over waiting: a conflict stays a conflict whatever the locked streams turn out to be.
 */
export type AtomicDecision<T> =
  | { kind: 'write'; reserved: ReservedPartition<T>[] }
  | { kind: 'answer'; outcomes: AppendOutcome[] }
  | { kind: 'refuse'; errors: (KesError | undefined)[] }
  | { kind: 'retry'; reason: 'redis' | 'stale' | 'busy'; delayMs: number; resolveHolders: string[] };

export function decideAtomic<T extends AtomicMember>(
  members: number,
  partitions: readonly { topic: string; partition: number; items: readonly T[]; decision: PartitionDecision<T> }[],
): AtomicDecision<T> {
  const reserved: ReservedPartition<T>[] = [];
  const outcomes: (AppendOutcome | undefined)[] = new Array(members);
  const errors: (KesError | undefined)[] = Array.from({ length: members }, () => undefined);
  let refused = false;
  let retry: { reason: 'redis' | 'stale' | 'busy'; delayMs: number } | undefined;
  const resolveHolders: string[] = [];
  let answered = 0;
  let decided = 0;
  for (const { topic, partition, decision } of partitions) {
    if (decision.kind === 'retry') {
      retry = { reason: decision.reason, delayMs: Math.max(retry?.delayMs ?? 0, decision.delayMs) };
      continue;
    }
    const here: ReservedPartition<T> = { topic, partition, appends: [] };
    for (const d of decision.decisions) {
      decided += 1;
      switch (d.kind) {
        case 'write':
          here.appends.push({ item: d.item, first: d.first, last: d.last });
          break;
        case 'answer':
          outcomes[d.item.index] = d.outcome;
          answered += 1;
          break;
        case 'refuse':
          errors[d.item.index] = d.error;
          refused = true;
          break;
        case 'wait':
          retry ??= { reason: 'busy', delayMs: d.delayMs };
          if (retry.reason === 'busy') retry.delayMs = Math.max(retry.delayMs, d.delayMs);
          if (d.resolveHolder !== undefined) resolveHolders.push(d.resolveHolder);
          break;
      }
    }
    if (here.appends.length > 0) reserved.push(here);
  }
  if (refused) return { kind: 'refuse', errors };
  if (retry) return { kind: 'retry', ...retry, resolveHolders };
  // A member without an answer must not be left out of a transaction that writes the others.
  if (decided !== members) return { kind: 'retry', reason: 'redis', delayMs: 100, resolveHolders };
  if (answered === members) return { kind: 'answer', outcomes: outcomes as AppendOutcome[] };
  if (answered > 0) {
    for (const { items } of partitions) {
      for (const item of items) {
        if (outcomes[item.index] === undefined) continue;
        const eventId = item.append.events[0]?.id ?? '';
        errors[item.index] = new EventIdConflictError(
          item.append.stream,
          eventId,
          'was written before, but not with the rest of this atomic batch',
        );
      }
    }
    return { kind: 'refuse', errors };
  }
  return { kind: 'write', reserved };
}

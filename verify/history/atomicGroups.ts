import type { Violation } from './checkTypes.js';
import type { CommittedEvent } from './committedEvents.js';
import type { Lookup } from './eventIdIndex.js';
import type { AppendAttempt } from './history.js';
import { formatPosition, positionOf } from './positions.js';
import { list } from './violationText.js';

/**
 * Atomic batches (`appendAtomically`): the attempts of one atomic group (its items and their retries, which carry
 * the same `atomicGroup`) are in the log entirely or not at all, and in one transaction.
 *
 * "One transaction" is read from what every committed record carries: the producer id and epoch of its record
 * batch (a producer has one transaction open at a time) and the group commit's time (kes-time, the same for every
 * record of one transaction). Events of one group under two producers, two epochs or two commit times were written
 * by two transactions. Two transactions of one producer in the same millisecond would look like one: that is the
 * limit of the check (the control markers, which would tell them apart, are not kept by the reader).
 */

export interface AtomicGroupCounts {
  atomicGroups: number;
  /** Groups whose events are all in the log. */
  atomicGroupsWritten: number;
}

export function checkAtomicGroups(
  attempts: readonly AppendAttempt[],
  lookup: Lookup,
  violations: Violation[],
): AtomicGroupCounts {
  const groups = new Map<string, AppendAttempt[]>();
  for (const a of attempts) {
    if (a.atomicGroup === undefined) continue;
    const members = groups.get(a.atomicGroup);
    if (members) members.push(a);
    else groups.set(a.atomicGroup, [a]);
  }
  let written = 0;
  for (const [group, members] of groups) {
    const ids = [...new Set(members.flatMap((a) => a.eventIds))];
    const found: CommittedEvent[] = [];
    const missing: string[] = [];
    for (const id of ids) {
      const e = lookup(id);
      if (e) found.push(e);
      else missing.push(id);
    }
    if (found.length === 0) continue;
    const streams = [...new Set(members.map((a) => a.stream))];
    const first = found[0] as CommittedEvent;
    if (missing.length > 0) {
      violations.push({
        invariant: 'atomic',
        stream: first.stream,
        eventIds: missing,
        detail: `atomic group ${group} (${streams.length} stream(s): ${list(streams)}) is in the log only in part: ${found.length} of ${ids.length} event(s) committed (first ${first.eventId} at ${formatPosition(first)}), missing ${list(missing)}`,
        position: positionOf(first),
      });
      continue;
    }
    written++;
    const transactions = new Map<string, CommittedEvent>();
    for (const e of found) {
      const key = transactionOf(e);
      if (!transactions.has(key)) transactions.set(key, e);
    }
    if (transactions.size > 1) {
      const seen = [...transactions].map(([key, e]) => `${key} (${e.stream} at ${formatPosition(e)})`);
      violations.push({
        invariant: 'atomic',
        stream: first.stream,
        eventIds: ids,
        detail: `atomic group ${group} (${streams.length} stream(s): ${list(streams)}) was written by ${transactions.size} transactions, not one: ${list(seen, '; ')}`,
        position: positionOf(first),
      });
    }
  }
  return { atomicGroups: groups.size, atomicGroupsWritten: written };
}

/** What tells one transaction from another in a committed record (unknown parts, e.g. in hand-built logs, match). */
function transactionOf(e: CommittedEvent): string {
  return `producer ${e.producerId ?? '?'} epoch ${e.producerEpoch ?? '?'} commit time ${e.timeMs ?? '?'}`;
}

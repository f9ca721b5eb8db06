import type { Violation } from '../../verify/history/checkTypes.js';
import type { CommittedEvent } from '../../verify/history/committedEvents.js';

/** What read-decide-append left in a log, counted: the experiment's figures for one path and writer count. */
export interface Anomalies {
  /** Increments a writer was told were written. */
  acknowledged: number;
  /** The balances the streams' last events state, summed: what a reader of the decided state believes. */
  finalBalance: number;
  /** Acknowledged increments the final state does not hold: decided on a state that missed another's write. */
  lostUpdates: number;
  duplicateVersions: number;
  gaps: number;
  outOfOrder: number;
  /** Every violation the history checker reported (the three kinds above and any other). */
  violations: number;
}

/**
 * Counts the anomalies of one run. Each writer's event says "the balance is now b + 1" at version v + 1 of the
 * state it read (b = v + 1 by construction), so a stream's final balance is its last event's version + 1, and any
 * acknowledged increment beyond it was overwritten by a writer that never saw it: a lost update. Kafka itself lost
 * nothing: the events are all in the log, but the decisions they carry contradict each other.
 */
export function countAnomalies(
  acknowledged: number,
  committed: readonly CommittedEvent[],
  violations: readonly Violation[],
): Anomalies {
  const last = new Map<string, CommittedEvent>();
  for (const e of committed) {
    const seen = last.get(e.stream);
    if (!seen || e.partition !== seen.partition || e.offset > seen.offset) last.set(e.stream, e);
  }
  let finalBalance = 0;
  for (const e of last.values()) finalBalance += e.version + 1;
  let duplicateVersions = 0;
  let gaps = 0;
  let outOfOrder = 0;
  for (const v of violations) {
    if (v.invariant !== 1) continue;
    if (v.detail.includes('is repeated')) duplicateVersions++;
    else if (v.detail.includes('a gap')) gaps++;
    else if (v.detail.includes('out of order')) outOfOrder++;
  }
  return {
    acknowledged,
    finalBalance,
    lostUpdates: Math.max(0, acknowledged - finalBalance),
    duplicateVersions,
    gaps,
    outOfOrder,
    violations: violations.length,
  };
}

import type { CheckOptions, CheckSummary, Violation } from './checkTypes.js';
import { type CommittedEvent, uniquePartitions } from './committedEvents.js';
import type { AppendAttempt, AttemptStatus } from './history.js';

/** What the rules counted on their way, for the summary. */
export interface RuleCounts {
  logicalAppends: number;
  indeterminateWritten: number;
  indeterminateNotWritten: number;
  unloggedEvents: number;
  atomicGroups: number;
  atomicGroupsWritten: number;
}

/** The summary of a check: attempts by outcome, what was read, violations per invariant. */
export function summarize(
  attempts: readonly AppendAttempt[],
  events: readonly CommittedEvent[],
  violations: readonly Violation[],
  options: CheckOptions,
  counts: RuleCounts,
): CheckSummary {
  const outcomes: Record<AttemptStatus, number> = { ok: 0, conflict: 0, rejected: 0, indeterminate: 0 };
  for (const a of attempts) outcomes[a.outcome.status]++;
  const partitionsRead = options.partitionsRead ?? uniquePartitions(events);
  const violationsByInvariant: Record<string, number> = {
    1: 0,
    2: 0,
    3: 0,
    4: 0,
    6: 0,
    unlogged: 0,
    'duplicate-id': 0,
  };
  // Shown only when the history has atomic groups: older histories keep the summary they had.
  if (counts.atomicGroups > 0) violationsByInvariant.atomic = 0;
  for (const v of violations)
    violationsByInvariant[String(v.invariant)] = (violationsByInvariant[v.invariant] ?? 0) + 1;

  return {
    attempts: attempts.length,
    outcomes,
    logicalAppends: counts.logicalAppends,
    indeterminateWritten: counts.indeterminateWritten,
    indeterminateNotWritten: counts.indeterminateNotWritten,
    streamsInHistory: new Set(attempts.map((a) => a.stream)).size,
    streamsInKafka: new Set(events.map((e) => e.stream)).size,
    committedEvents: events.length,
    topics: new Set(partitionsRead.map((p) => p.topic)).size,
    partitions: partitionsRead.length,
    unloggedEvents: counts.unloggedEvents,
    foreignRecords: (options.foreignRecords ?? []).length,
    atomicGroups: counts.atomicGroups,
    atomicGroupsWritten: counts.atomicGroupsWritten,
    violations: violations.length,
    violationsByInvariant,
  };
}

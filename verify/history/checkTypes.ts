import type { ForeignRecord } from './committedEvents.js';
import type { AttemptStatus } from './history.js';
import type { Position } from './positions.js';

/** What the history checker takes and gives: its options, the violations it reports, its summary. */

/**
 * 1–6 are the invariants of the design notes; 5 (read models) comes from a plugged-in check. 'atomic': an atomic
 * group is in the log entirely or not at all, in one transaction.
 */
export type ViolationKind = 1 | 2 | 3 | 4 | 5 | 6 | 'unlogged' | 'duplicate-id' | 'atomic';
export const violationKinds: readonly ViolationKind[] = [1, 2, 3, 4, 5, 6, 'unlogged', 'duplicate-id', 'atomic'];

export interface Violation {
  invariant: ViolationKind;
  stream?: string;
  eventIds?: string[];
  detail: string;
  /** Where in Kafka the problem shows (the offending record), when there is one. */
  position?: Position;
}

export interface CheckOptions {
  /** Events in Kafka that no attempt logged are counted in the summary, not reported as violations. */
  allowUnlogged?: boolean;
  /**
   * How long the guard remembers event ids (KES_IDEMPOTENCY_WINDOW_S). A retry that comes later than this after a
   * committed write may be refused without violating invariant 3. @default Infinity
   */
  idempotencyWindowMs?: number;
  /** Every partition that was read, empty ones included (for the summary). @default the partitions holding events */
  partitionsRead?: readonly { topic: string; partition: number }[];
  /** Records without kes headers found in the topics; reported as unlogged. */
  foreignRecords?: readonly ForeignRecord[];
}

export interface CheckSummary {
  attempts: number;
  outcomes: Record<AttemptStatus, number>;
  /** Groups of attempts that share event ids (an append and its retries). */
  logicalAppends: number;
  /** Indeterminate attempts whose events are all in Kafka (written by it or by a retry) / none of them. */
  indeterminateWritten: number;
  indeterminateNotWritten: number;
  streamsInHistory: number;
  streamsInKafka: number;
  committedEvents: number;
  topics: number;
  partitions: number;
  /** Committed events whose id no attempt logged (violations unless allowUnlogged). */
  unloggedEvents: number;
  foreignRecords: number;
  /** Atomic groups in the history (appendAtomically calls), and those whose events are all in the log. */
  atomicGroups: number;
  atomicGroupsWritten: number;
  violations: number;
  violationsByInvariant: Record<string, number>;
}

export interface CheckResult {
  summary: CheckSummary;
  violations: Violation[];
}

import type { LatencySummary } from '../support/latency.js';
import type { Window } from './load.js';

/** The targets of issue 13 that bench:guard checks, and the row of its main table (report.ts, batchedReport.ts). */
export const P99_TARGET_MS = 50;
export const RATIO_TARGET = 0.5;
/** A lone append's p50 against a raw single-record transaction's, at most. */
export const SINGLE_RATIO_TARGET = 1.3;

export interface Row {
  phase: string;
  clients: string;
  appendsPerSecond?: number;
  eventsPerSecond?: number;
  p50?: number;
  p99?: number;
  max?: number;
  conflicts?: number;
  errors?: number;
  groupCommit?: number;
  commitMs?: number;
}

/** The figures of a row from a guarded phase's result (closed loop, open loop, batched, atomic). */
export function loadFigures(
  r: { appendsPerSecond: number; eventsPerSecond: number; latency: LatencySummary; conflicts: number; window: Window },
  errors: number,
): Omit<Row, 'phase' | 'clients'> {
  return {
    appendsPerSecond: r.appendsPerSecond,
    eventsPerSecond: r.eventsPerSecond,
    p50: r.latency.p50,
    p99: r.latency.p99,
    max: r.latency.max,
    conflicts: r.conflicts,
    errors,
    groupCommit: r.window.guard.meanGroupCommit,
    commitMs: r.window.guard.meanCommitMs,
  };
}

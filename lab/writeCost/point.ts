import type { LatencySummary } from '../../bench/support/latency.js';

/** What one path did at one writer count. */
export interface PointFigures {
  appendsPerSecond: number;
  /** Per call: one append, or one atomic batch (atomic batches count each of its appends in appendsPerSecond). */
  latency: LatencySummary;
  /** CPU per process name during the measured window, in % of one core (cpuRecord of bench/support/cpuMeter.ts). */
  cpu: Record<string, number>;
  /** Calls that failed (an error is counted, not retried). */
  errors: number;
}

/** The name cpuRecord gives this process (rawTransactions names it so too). */
export const CLIENT = 'bench client';

/**
 * CPU µs per append of the processes that do a path's work: their CPU (% of one core) over the window divided by
 * the appends written. Processes not in `cpu` (not running, not local) add nothing.
 */
export function cpuPerAppendUs(
  cpu: Record<string, number>,
  processes: readonly string[],
  appendsPerSecond: number,
): number {
  if (!(appendsPerSecond > 0)) return Number.NaN;
  const percent = processes.reduce((sum, name) => sum + (cpu[name] ?? 0), 0);
  // 100% of one core for one second is 1e6 µs
  return (percent * 1e4) / appendsPerSecond;
}

import type { AppendAttempt } from '../history/history.js';
import { measureStall } from './stall.js';

/** What clients saw after one fault (a failover), until the next fault or the end of the load. */
export interface FailoverWindow {
  faultMs: number;
  /** From the fault to the end of the last 503 answered before the window closed: the seconds of "not ready". */
  notReadyMs: number;
  /** 503 answers in the window. */
  notReadyAnswers: number;
  /** Longest time without a successful append, from the fault on. */
  longestGapMs: number;
}

/**
 * Cuts a history into windows that start at each fault and end at the next (or at `endMs`), and measures each.
 * A 503 from before the fault is not counted, a success after it closes the gap. Pure: unit-tested.
 */
export function failoverWindows(
  attempts: readonly AppendAttempt[],
  faultTimesMs: readonly number[],
  endMs: number,
): FailoverWindow[] {
  const faults = [...faultTimesMs].sort((a, b) => a - b);
  const okTimes = attempts.filter((a) => a.outcome.status === 'ok').map((a) => a.endMs);
  return faults.map((faultMs, i) => {
    const until = faults[i + 1] ?? endMs;
    const notReady = attempts.filter(
      (a) => a.outcome.status === 'rejected' && a.outcome.httpStatus === 503 && a.endMs >= faultMs && a.endMs < until,
    );
    const lastNotReady = Math.max(faultMs, ...notReady.map((a) => a.endMs));
    return {
      faultMs,
      notReadyMs: lastNotReady - faultMs,
      notReadyAnswers: notReady.length,
      longestGapMs: measureStall(okTimes, faultMs, until).longestGapMs,
    };
  });
}

/**
 * How long writers stalled around a fault, from the times successful appends were answered: the longest gap
 * between two successes (or between the window's start and the first one) and the time in windows of `bucketMs`
 * that saw none. Both over [fromMs, toMs), the span after a fault where a stall would show.
 */
export interface Stall {
  longestGapMs: number;
  /** Sum of the empty buckets: seconds of zero successful appends, as a dashboard at that resolution would show. */
  emptyMs: number;
}

export function measureStall(okTimesMs: readonly number[], fromMs: number, toMs: number, bucketMs = 100): Stall {
  const times = okTimesMs.filter((t) => t >= fromMs && t < toMs).sort((a, b) => a - b);
  let longestGapMs = 0;
  let previous = fromMs;
  for (const t of [...times, toMs]) {
    longestGapMs = Math.max(longestGapMs, t - previous);
    previous = t;
  }
  const buckets = Math.ceil((toMs - fromMs) / bucketMs);
  const seen = new Set(times.map((t) => Math.floor((t - fromMs) / bucketMs)));
  let empty = 0;
  for (let b = 0; b < buckets; b++) if (!seen.has(b)) empty += 1;
  return { longestGapMs, emptyMs: empty * bucketMs };
}

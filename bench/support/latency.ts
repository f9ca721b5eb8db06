import { percentile } from '../../verify/load/workload.js';

export { percentile };

export interface LatencySummary {
  p50: number;
  p99: number;
  max: number;
  mean: number;
}

/** A sorted copy; Float64Array sorts numerically, where Array.prototype.sort would compare strings. */
export function sortedCopy(values: readonly number[]): number[] {
  return Array.from(Float64Array.from(values).sort());
}

export function summarize(latencies: readonly number[]): LatencySummary {
  const sorted = sortedCopy(latencies);
  const sum = sorted.reduce((a, b) => a + b, 0);
  return {
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted.length > 0 ? (sorted[sorted.length - 1] as number) : Number.NaN,
    mean: sorted.length > 0 ? sum / sorted.length : Number.NaN,
  };
}

export function median(values: readonly number[]): number {
  return percentile(sortedCopy(values), 50);
}

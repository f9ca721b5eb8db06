import type { Sample } from './prometheusText.js';

/**
 * Sums and histograms over samples, and what two scrapes a moment apart say: rates from counters' deltas and
 * quantiles from histograms' bucket deltas. Samples of several processes (guards) are summed, as Prometheus'
 * `sum(rate(…))` would.
 */
export type LabelFilter = Readonly<Record<string, string | readonly string[]>>;

function matches(sample: Sample, filter: LabelFilter | undefined): boolean {
  if (!filter) return true;
  for (const [label, wanted] of Object.entries(filter)) {
    const value = sample.labels[label];
    if (value === undefined) return false;
    if (typeof wanted === 'string' ? value !== wanted : !wanted.includes(value)) return false;
  }
  return true;
}

/** The sum of every sample named `name` (and matching `filter`); 0 when there is none. */
export function total(samples: readonly Sample[], name: string, filter?: LabelFilter): number {
  let sum = 0;
  for (const s of samples) if (s.name === name && matches(s, filter) && Number.isFinite(s.value)) sum += s.value;
  return sum;
}

/** Sums of `name` per value of `label`. */
export function totalsBy(samples: readonly Sample[], name: string, label: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of samples) {
    const key = s.labels[label];
    if (s.name !== name || key === undefined || !Number.isFinite(s.value)) continue;
    out[key] = (out[key] ?? 0) + s.value;
  }
  return out;
}

/** A cumulative histogram: counts of observations ≤ each upper bound, the last bound +Inf. */
export interface Buckets {
  bounds: number[];
  counts: number[];
  sum: number;
  count: number;
}

/** The histogram `name` summed over its label sets (`name_bucket`, `name_sum`, `name_count`). */
export function histogram(samples: readonly Sample[], name: string, filter?: LabelFilter): Buckets {
  const byBound = new Map<number, number>();
  for (const s of samples) {
    if (s.name !== `${name}_bucket` || !matches(s, filter)) continue;
    const le = s.labels.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(s.labels.le);
    if (Number.isNaN(le)) continue;
    byBound.set(le, (byBound.get(le) ?? 0) + s.value);
  }
  const bounds = [...byBound.keys()].sort((a, b) => a - b);
  return {
    bounds,
    counts: bounds.map((b) => byBound.get(b) ?? 0),
    sum: total(samples, `${name}_sum`, filter),
    count: total(samples, `${name}_count`, filter),
  };
}

/**
 * How much a counter grew. A smaller value than before means the process restarted (counters start at 0 again):
 * then everything it counted since is new.
 */
export function growth(before: number, after: number): number {
  return after >= before ? after - before : after;
}

/** The observations between two scrapes of one histogram (bucket by bucket; a restart counts as above). */
export function bucketsBetween(before: Buckets, after: Buckets): Buckets {
  const restarted = after.count < before.count;
  const earlier = new Map(before.bounds.map((b, i) => [b, before.counts[i] ?? 0]));
  return {
    bounds: after.bounds,
    counts: after.counts.map((c, i) =>
      restarted ? c : Math.max(0, c - (earlier.get(after.bounds[i] as number) ?? 0)),
    ),
    sum: restarted ? after.sum : Math.max(0, after.sum - before.sum),
    count: growth(before.count, after.count),
  };
}

/**
 * The q-quantile of a cumulative histogram, interpolated linearly inside the bucket it falls in (as Prometheus'
 * histogram_quantile does; the first bucket starts at 0). Falling into the +Inf bucket gives the highest finite
 * bound. Undefined without observations.
 */
export function quantile(buckets: Buckets, q: number): number | undefined {
  const { bounds, counts } = buckets;
  const observed = counts[counts.length - 1] ?? 0;
  if (observed <= 0 || bounds.length === 0) return undefined;
  const rank = q * observed;
  for (let i = 0; i < bounds.length; i++) {
    const cumulative = counts[i] ?? 0;
    if (cumulative < rank) continue;
    const upper = bounds[i] as number;
    const lower = i === 0 ? 0 : (bounds[i - 1] as number);
    if (upper === Number.POSITIVE_INFINITY) return lower;
    const below = i === 0 ? 0 : (counts[i - 1] ?? 0);
    const inBucket = cumulative - below;
    return inBucket <= 0 ? upper : lower + (upper - lower) * ((rank - below) / inBucket);
  }
  return bounds.filter(Number.isFinite).pop();
}

/** Mean of the observations of a histogram (delta), undefined without any. */
export function mean(buckets: Buckets): number | undefined {
  return buckets.count > 0 ? buckets.sum / buckets.count : undefined;
}

/** Per-second rate of a counter between two scrapes `seconds` apart. */
export function ratePerSecond(before: number, after: number, seconds: number): number {
  return seconds > 0 ? growth(before, after) / seconds : 0;
}

import { sortedCopy } from '../../bench/support/latency.js';
import { percentile } from '../../verify/load/workload.js';
import type { HotStreamTally } from './hotStreamWriters.js';

/** One point of the contention experiment, as its table and charts show it. */
export interface ContentionRow {
  guards: number;
  writers: number;
  successesPerSecond: number;
  conflictsPerSecond: number;
  /** Share of compare-and-swap tries refused: conflicts / (conflicts + successes). */
  conflictRatio: number;
  /** Conflicts per success: how many decisions were thrown away for each one that was written. */
  retriesPerSuccess: number;
  p50Ms: number;
  p99Ms: number;
  successes: number;
  conflicts: number;
  failures: number;
  abandoned: number;
}

export function contentionRow(guards: number, writers: number, t: HotStreamTally): ContentionRow {
  const seconds = t.elapsedMs / 1000;
  const sorted = sortedCopy(t.latenciesMs);
  const tries = t.conflicts + t.successes;
  return {
    guards,
    writers,
    successesPerSecond: seconds > 0 ? t.successes / seconds : Number.NaN,
    conflictsPerSecond: seconds > 0 ? t.conflicts / seconds : Number.NaN,
    conflictRatio: tries > 0 ? t.conflicts / tries : Number.NaN,
    retriesPerSuccess: t.successes > 0 ? t.conflicts / t.successes : Number.NaN,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    successes: t.successes,
    conflicts: t.conflicts,
    failures: t.failures,
    abandoned: t.abandoned,
  };
}

const int = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a');
const pct = (n: number) => (Number.isFinite(n) ? `${Math.round(n * 100)}%` : 'n/a');
const ms = (n: number) => (Number.isFinite(n) ? `${n < 10 ? n.toFixed(1) : Math.round(n)} ms` : 'n/a');

/** The writer count where successes/s first reaches 90% of its peak: past it, more writers buy (almost) nothing. */
export function flattensAt(rows: readonly ContentionRow[]): { peak: ContentionRow; knee: ContentionRow } | undefined {
  const sorted = [...rows].sort((a, b) => a.writers - b.writers);
  const peak = sorted.reduce<ContentionRow | undefined>(
    (best, r) => (best === undefined || r.successesPerSecond > best.successesPerSecond ? r : best),
    undefined,
  );
  if (!peak) return undefined;
  const knee = sorted.find((r) => r.successesPerSecond >= 0.9 * peak.successesPerSecond) ?? peak;
  return { peak, knee };
}

/** The paragraph under the figures, from the figures: where throughput flattens, how conflicts grow, what guards add. */
export function contentionReading(rows: readonly ContentionRow[], violations: number): string {
  const guardCounts = [...new Set(rows.map((r) => r.guards))].sort((a, b) => a - b);
  const parts: string[] = [];
  const peaks = new Map<number, ContentionRow>();
  for (const g of guardCounts) {
    const of = rows.filter((r) => r.guards === g);
    const f = flattensAt(of);
    if (!f) continue;
    peaks.set(g, f.peak);
    parts.push(throughputClause(g, of, f));
  }
  const sentences = [`${capital(parts.join('; '))}.`];
  const contended = rows.filter((r) => r.writers > 1);
  if (contended.length > 0) {
    const least = contended.reduce((a, b) => (b.writers < a.writers ? b : a));
    const most = contended.reduce((a, b) => (b.writers > a.writers ? b : a));
    sentences.push(
      `Conflicts grow with the writers: ${pct(least.conflictRatio)} of compare-and-swap tries were refused at ${least.writers} writers ` +
        `(${least.retriesPerSuccess.toFixed(2)} retries per success) and ${pct(most.conflictRatio)} at ${most.writers} ` +
        `(${most.retriesPerSuccess.toFixed(1)} retries per success, ${int(most.conflictsPerSecond)} conflicts/s), so most of the work ` +
        `at high counts is decisions thrown away, not events written.`,
    );
    const single = rows.filter((r) => r.writers === Math.min(...rows.map((x) => x.writers)));
    const lone = single[0];
    if (lone)
      sentences.push(
        `The p99 of a successful append, its retries included, went from ${ms(lone.p99Ms)} with ${lone.writers} writer to ` +
          `${ms(most.p99Ms)} with ${most.writers} (p50 ${ms(most.p50Ms)}): ${tailCause(most)}`,
      );
    const starved = rows.filter((r) => r.abandoned > 0);
    if (starved.length > 0) {
      const worst = starved.reduce((a, b) => (b.abandoned / b.writers > a.abandoned / a.writers ? b : a));
      sentences.push(
        `Nothing makes it fair: with ${worst.writers} writers on ${worst.guards} guard${worst.guards === 1 ? '' : 's'}, ${worst.abandoned} of them ` +
          `had still not written when the point ended and its grace ran out, so the p99 above counts only the writers that got through.`,
      );
    }
  }
  const one = peaks.get(guardCounts[0] ?? 1);
  const many = peaks.get(guardCounts[guardCounts.length - 1] ?? 1);
  if (one && many && many.guards !== one.guards) sentences.push(guardsSentence(one, many));
  sentences.push(
    violations === 0
      ? 'The history checker found 0 violations: every refused try wrote nothing and every acknowledged append is in the log at its version.'
      : `The history checker found ${violations} violation(s): see the table.`,
  );
  return sentences.join(' ');
}

/**
 * Why the tail is what it is. A p99 far above the p50 is not a queue: optimistic concurrency has none, so nothing
 * orders the writers that lost, and one can lose try after try while others win; the tail is then bounded only by
 * how long the point ran.
 */
export function tailCause(row: ContentionRow): string {
  if (row.p99Ms > 10 * row.p50Ms)
    return (
      'the typical append waits a few turns, but the p99 is a writer that lost try after try. Optimistic concurrency ' +
      'has no queue: nothing orders the losers, so on a stream this hot a writer can lose for most of the point. A ' +
      "stream that hot wants its writes serialised before the guard (one command handler per stream) or the losers' " +
      'retries spread out (backoff with jitter), not more guards.'
    );
  return "each writer waits for the others' turns on the stream's lock.";
}

/** One guard count's throughput: where it peaked, and whether more writers then added nothing or took away. */
export function throughputClause(
  guards: number,
  rows: readonly ContentionRow[],
  f: { peak: ContentionRow; knee: ContentionRow },
): string {
  const sorted = [...rows].sort((a, b) => a.writers - b.writers);
  const last = sorted[sorted.length - 1] ?? f.peak;
  const head = `on ${guards} guard${guards === 1 ? '' : 's'} one hot stream peaked at ${int(f.peak.successesPerSecond)} successful appends/s with ${writersText(f.peak.writers)}`;
  if (last.writers > f.peak.writers && last.successesPerSecond < 0.9 * f.peak.successesPerSecond)
    return `${head} and fell as writers were added, to ${int(last.successesPerSecond)}/s with ${writersText(last.writers)}`;
  if (f.knee.writers < f.peak.writers)
    return `${head}, and was within 10% of that from ${writersText(f.knee.writers)} on`;
  return head;
}

const writersText = (n: number) => `${n} writer${n === 1 ? '' : 's'}`;

/** What more guards did to the one stream, said as the figures say it. */
export function guardsSentence(one: ContentionRow, many: ContentionRow): string {
  const ratio = many.successesPerSecond / one.successesPerSecond;
  const figures = `${many.guards} guards peaked at ${ratio.toFixed(2)} times the peak of ${one.guards} (${int(many.successesPerSecond)} against ${int(one.successesPerSecond)}/s)`;
  if (many.writers === 1)
    return `${figures}, but with one writer only one guard receives appends, so that difference is the machine's noise, not the guards'.`;
  if (ratio >= 1.1)
    return `${figures}: more processes share the HTTP and client work, but the appends to one stream stay serialised on one Redis reservation and one Kafka partition, so the gain is bounded by that turn.`;
  if (ratio <= 0.9)
    return `${figures}: on one hot stream more guards add no capacity, since every append still takes the same stream's reservation in turn and the guards' writers now compete for it.`;
  return `${figures}: about the same, because the appends to one stream are serialised on one Redis reservation and one Kafka partition whatever the number of guards; guards add throughput across streams, not within one.`;
}

function capital(s: string): string {
  return s.length > 0 ? `${s[0]?.toUpperCase()}${s.slice(1)}` : s;
}

import type { LabChart, LabTable } from '../core/experiment.js';

/**
 * The cold-read experiment's figures: one row per partition size, three ways of loading the same stream. Pure, so
 * the table, the charts and the reading are tested without a stack.
 */
export interface ColdReadRow {
  /** Offsets (records) the partition, and rows the messages table, hold in all. */
  offsets: number;
  /** Events of the stream loaded. */
  events: number;
  /** Read the partition from offset 0 and keep the stream's records (raw Kafka). */
  scanMs: number;
  /** kes: fetches at the offsets of the stream's position index (median of the runs). */
  indexedMs: number;
  /** Postgres: get_stream_messages over the messages table (median of the runs). */
  postgresMs: number;
  /** Fetches the indexed read made. */
  fetches: number;
  /** The machine's 1-minute load average when the row was measured. */
  load: number;
}

export const METHODS = [
  { key: 'scanMs', label: 'partition scan (raw Kafka)' },
  { key: 'indexedMs', label: 'kes indexed read' },
  { key: 'postgresMs', label: 'Postgres get_stream_messages' },
] as const;
type MethodKey = (typeof METHODS)[number]['key'];

const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;
const eventsPerSecond = (events: number, ms: number) => Math.round((events * 1000) / ms);
const power = (n: number) => {
  const exp = Math.log10(n);
  return Number.isInteger(exp) ? `10^${exp}` : n.toLocaleString('en-US');
};
const ms = (n: number) => (n >= 100 ? `${Math.round(n).toLocaleString('en-US')} ms` : `${round(n, 1)} ms`);

export function coldReadTable(rows: readonly ColdReadRow[]): LabTable {
  return {
    name: 'cold-read',
    title: 'Loading one stream, by the offsets its partition (or table) holds',
    columns: [
      'offsets P',
      'events L',
      'partition scan ms',
      'kes indexed ms',
      'postgres ms',
      'partition scan events/s',
      'kes indexed events/s',
      'postgres events/s',
      'kes fetches',
      'load avg',
    ],
    rows: rows.map((r) => [
      r.offsets,
      r.events,
      round(r.scanMs),
      round(r.indexedMs),
      round(r.postgresMs),
      eventsPerSecond(r.events, r.scanMs),
      eventsPerSecond(r.events, r.indexedMs),
      eventsPerSecond(r.events, r.postgresMs),
      r.fetches,
      round(r.load),
    ]),
  };
}

export function coldReadCharts(rows: readonly ColdReadRow[]): LabChart[] {
  const events = rows[0]?.events ?? 0;
  return [
    {
      name: 'load-time',
      title: `Loading a ${events}-event stream: time against the offsets held in all`,
      kind: 'line',
      x: { label: 'offsets in the partition / rows in the table (P)', log: true },
      y: { label: 'load time, ms', log: true },
      series: METHODS.map((m) => ({ name: m.label, points: rows.map((r) => [r.offsets, round(r[m.key], 2)]) })),
    },
    {
      name: 'events-per-second',
      title: `Loading a ${events}-event stream: events delivered per second`,
      kind: 'line',
      x: { label: 'offsets in the partition / rows in the table (P)', log: true },
      y: { label: 'events/s', log: true },
      series: METHODS.map((m) => ({
        name: m.label,
        points: rows.map((r) => [r.offsets, eventsPerSecond(r.events, r[m.key])]),
      })),
    },
  ];
}

/** The first P at which `a` is slower than `b`, when `a` was not slower at the smallest P; else undefined. */
export function firstSlower(rows: readonly ColdReadRow[], a: MethodKey, b: MethodKey): ColdReadRow | undefined {
  const first = rows[0];
  if (!first || first[a] > first[b]) return undefined;
  return rows.find((r) => r[a] > r[b]);
}

/** How many times a method's time grew from the smallest P to the largest. */
function growth(rows: readonly ColdReadRow[], key: MethodKey): number {
  const first = rows[0];
  const last = rows[rows.length - 1];
  return first && last ? last[key] / first[key] : Number.NaN;
}

function fastest(row: ColdReadRow): (typeof METHODS)[number] {
  return [...METHODS].sort((x, y) => row[x.key] - row[y.key])[0] as (typeof METHODS)[number];
}

/** One paragraph from the figures: the ends of the range, how each curve grew, and where the order changed. */
export function coldReadReading(rows: readonly ColdReadRow[]): string {
  const first = rows[0];
  const last = rows[rows.length - 1];
  if (!first || !last) return 'No partition size was measured.';
  const at = (r: ColdReadRow) =>
    `partition scan ${ms(r.scanMs)}, kes indexed read ${ms(r.indexedMs)}, Postgres ${ms(r.postgresMs)}`;
  const parts = [
    `Loading a ${first.events}-event stream from ${power(first.offsets)} offsets took ${at(first)}` +
      (rows.length > 1 ? `; from ${power(last.offsets)} offsets, ${at(last)}.` : '.'),
  ];
  if (rows.length > 1) {
    const span = last.offsets / first.offsets;
    const grew = (key: MethodKey) => {
      const g = growth(rows, key);
      return `${round(g, 1)}-fold (log-log slope ${round(Math.log(g) / Math.log(span), 2)})`;
    };
    parts.push(
      `Over that ${Math.round(span).toLocaleString('en-US')}-fold growth of the partition the scan's time grew ` +
        `${grew('scanMs')}, the indexed read's ${grew('indexedMs')} while its fetches went from ${first.fetches} to ` +
        `${last.fetches}, and Postgres' ${grew('postgresMs')}; a slope of 1 is a cost proportional to P, 0 one ` +
        `independent of it. At ${power(last.offsets)} offsets the scan cost ` +
        `${round((last.scanMs * 1000) / last.offsets, 1)} µs per offset, the indexed read ` +
        `${round(last.indexedMs / last.events, 2)} ms and Postgres ${round(last.postgresMs / last.events, 3)} ms per event.`,
    );
    const crossings: string[] = [];
    for (const [a, b] of [
      ['scanMs', 'indexedMs'],
      ['scanMs', 'postgresMs'],
      ['postgresMs', 'indexedMs'],
      ['indexedMs', 'postgresMs'],
    ] as const) {
      const row = firstSlower(rows, a, b);
      if (!row) continue;
      const label = (k: MethodKey) => METHODS.find((m) => m.key === k)?.label ?? k;
      crossings.push(
        `${label(a)} falls behind ${label(b)} at ${power(row.offsets)} offsets (${ms(row[a])} against ${ms(row[b])})`,
      );
    }
    if (crossings.length > 0) parts.push(`The curves cross: ${crossings.join('; ')}.`);
    else parts.push('The curves do not cross in this range: their order at the smallest partition holds throughout.');
  }
  const winner = fastest(last);
  const scanOverIndexed = last.scanMs / last.indexedMs;
  parts.push(
    `At ${power(last.offsets)} offsets the fastest was the ${winner.label}; the scan took ${round(scanOverIndexed, 1)} times ` +
      `the indexed read (${last.fetches} fetches) and ${round(last.scanMs / last.postgresMs, 1)} times Postgres, and the ` +
      `indexed read ${round(last.indexedMs / last.postgresMs, 1)} times Postgres (load average ${round(last.load)}).`,
  );
  return parts.join(' ');
}

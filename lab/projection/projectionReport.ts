import type { Cell, LabChart, LabTable } from '../core/experiment.js';
import type { BatchFigures } from './batchThroughput.js';
import type { FreshnessFigures } from './freshnessUnderLoad.js';
import type { RebuildFigures } from './rebuildTime.js';

export interface ProjectionFigures {
  events: number;
  preloadEventsPerSecond: number;
  /** KES_PROJECTOR_BATCH_MS of the sizes series and of the freshness load. */
  defaultBatchMs: number;
  batches: BatchFigures[];
  /** The machine's 1-minute load average over the run (highest seen) and its cores: how noisy the figures are. */
  loadAverage: number;
  cores: number;
  freshness: FreshnessFigures[];
  rebuilds: RebuildFigures[];
}

const whole = (n: number): Cell => (Number.isFinite(n) ? Math.round(n) : null);
const tenths = (n: number): Cell => (Number.isFinite(n) ? Math.round(n * 10) / 10 : null);
const hundredths = (n: number): Cell => (Number.isFinite(n) ? Math.round(n * 100) / 100 : null);
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

export function projectionTables(f: ProjectionFigures): LabTable[] {
  return [
    {
      name: 'batches',
      title: `Projector events/s over ${fmt(f.events)} pre-loaded events, by batch size and batch time`,
      columns: [
        'batch rows',
        'batch ms',
        'events',
        'rows written',
        'seconds',
        'events/s',
        'group join s',
        'inserts',
        'mean rows/insert',
        'mean insert ms',
      ],
      rows: f.batches.map((b) => [
        b.rows,
        b.ms,
        b.events,
        b.rowsWritten,
        hundredths(b.seconds),
        whole(b.eventsPerSecond),
        hundredths(b.joinSeconds),
        b.inserts,
        whole(b.meanRowsPerInsert),
        tenths(b.meanInsertMs),
      ]),
    },
    {
      name: 'freshness',
      title: `Freshness (append commit to row in ClickHouse) against guarded load, batch time ${f.defaultBatchMs} ms`,
      columns: [
        'appends/s asked',
        'appends/s committed',
        'failed',
        'pool waits',
        'append p50 ms',
        'append p99 ms',
        'events measured',
        'freshness p50 ms',
        'freshness p99 ms',
        'freshness max ms',
      ],
      rows: f.freshness.map((r) => [
        r.rate,
        whole(r.achieved),
        r.failed,
        r.poolWaits,
        tenths(r.appendP50Ms),
        tenths(r.appendP99Ms),
        r.events,
        whole(r.p50Ms),
        whole(r.p99Ms),
        whole(r.maxMs),
      ]),
    },
    {
      name: 'rebuilds',
      title: 'Rebuild of the events projection against the size of the log',
      columns: ['events in the log', 'pre-load s', 'rebuild s', 'events/s'],
      rows: f.rebuilds.map((r) => [
        r.logSize,
        hundredths(r.preloadSeconds),
        hundredths(r.seconds),
        whole(r.eventsPerSecond),
      ]),
    },
  ];
}

export function projectionCharts(f: ProjectionFigures): LabChart[] {
  const bySize = f.batches.filter((b) => b.ms === f.defaultBatchMs);
  const largest = Math.max(...f.batches.map((b) => b.rows));
  const byTime = f.batches.filter((b) => b.rows === largest).sort((a, b) => a.ms - b.ms);
  const charts: LabChart[] = [
    {
      name: 'events-per-second-by-batch-size',
      title: 'Projector events/s against batch size',
      kind: 'line',
      x: { label: 'KES_PROJECTOR_BATCH_ROWS (rows per insert)', log: true },
      y: { label: 'events/s' },
      series: [
        {
          name: `batch time ${f.defaultBatchMs} ms`,
          points: bySize.map((b) => [b.rows, whole(b.eventsPerSecond) as number | null]),
        },
      ],
    },
  ];
  if (byTime.length > 1) {
    charts.push({
      name: 'events-per-second-by-batch-time',
      title: `Projector events/s against batch time (${fmt(largest)} rows per insert)`,
      kind: 'line',
      x: { label: 'KES_PROJECTOR_BATCH_MS (ms)', log: true },
      y: { label: 'events/s' },
      series: [
        {
          name: `batch ${fmt(largest)} rows`,
          points: byTime.map((b) => [b.ms, whole(b.eventsPerSecond) as number | null]),
        },
      ],
    });
  }
  charts.push(
    {
      name: 'freshness-by-rate',
      title: 'Freshness against load (append commit to row in ClickHouse)',
      kind: 'line',
      x: { label: 'guarded appends/s asked', log: spansDecade(f.freshness.map((r) => r.rate)) },
      y: { label: 'ms' },
      series: [
        { name: 'p50', points: f.freshness.map((r) => [r.rate, whole(r.p50Ms) as number | null]) },
        { name: 'p99', points: f.freshness.map((r) => [r.rate, whole(r.p99Ms) as number | null]) },
      ],
    },
    {
      name: 'rebuild-seconds-by-log-size',
      title: 'Rebuild time against log size',
      kind: 'line',
      x: { label: 'events in the log', log: true },
      y: { label: 'seconds', log: spansDecade(f.rebuilds.map((r) => r.seconds)) },
      series: [
        { name: 'rebuild seconds', points: f.rebuilds.map((r) => [r.logSize, hundredths(r.seconds) as number | null]) },
      ],
    },
    {
      name: 'rebuild-rate-by-log-size',
      title: 'Rebuild events/s against log size',
      kind: 'line',
      x: { label: 'events in the log', log: true },
      y: { label: 'events/s' },
      series: [
        {
          name: 'rebuild events/s',
          points: f.rebuilds.map((r) => [r.logSize, whole(r.eventsPerSecond) as number | null]),
        },
      ],
    },
  );
  return charts;
}

/** A log axis reads better only when the values span ten times or more. */
function spansDecade(values: readonly number[]): boolean {
  const positive = values.filter((v) => Number.isFinite(v) && v > 0);
  return positive.length > 1 && Math.max(...positive) / Math.min(...positive) >= 10;
}

/** The paragraph under the figures, from the figures. */
export function projectionReading(f: ProjectionFigures): string {
  const parts: string[] = [];
  const bySize = f.batches.filter((b) => b.ms === f.defaultBatchMs).sort((a, b) => a.rows - b.rows);
  const small = bySize[0];
  const big = bySize[bySize.length - 1];
  if (small && big && small !== big) {
    const ratio = big.eventsPerSecond / small.eventsPerSecond;
    parts.push(
      `Over a backlog of ${fmt(f.events)} events the projector wrote ${fmt(small.eventsPerSecond)} events/s with ` +
        `inserts of ${fmt(small.rows)} rows and ${fmt(big.eventsPerSecond)} with ${fmt(big.rows)} rows ` +
        (ratio >= 1.2
          ? `(${ratio.toFixed(1)}×): each insert has a fixed cost, so small batches spend the time on inserts, not rows.`
          : ratio <= 0.83
            ? `(${ratio.toFixed(2)}×): larger inserts did not pay here.`
            : `(${ratio.toFixed(2)}×): the batch size hardly matters at these sizes.`),
    );
  } else if (small) {
    parts.push(`Over a backlog of ${fmt(f.events)} events the projector wrote ${fmt(small.eventsPerSecond)} events/s.`);
  }
  const largest = Math.max(...f.batches.map((b) => b.rows));
  const byTime = f.batches.filter((b) => b.rows === largest).sort((a, b) => a.ms - b.ms);
  const fast = byTime[0];
  const slow = byTime[byTime.length - 1];
  if (fast && slow && fast !== slow) parts.push(batchTimeSentence(fast, slow));
  const replayed = f.batches.filter((b) => b.rowsWritten > b.events);
  if (replayed.length > 0) {
    parts.push(
      `Some batches were written twice (${replayed.map((b) => `${fmt(b.rowsWritten - b.events)} rows at ${fmt(b.rows)} rows / ${b.ms} ms`).join(', ')}): ` +
        'the group dropped the consumer mid-backlog (one fetch flushed as many small inserts can outlast its session) and the fetch was replayed from the last commit, which the tables absorb and the events/s above pay for.',
    );
  }
  parts.push(...freshnessSentences(f));
  const first = f.rebuilds[0];
  const last = f.rebuilds[f.rebuilds.length - 1];
  if (first && last && first !== last) {
    const growth = last.seconds / first.seconds;
    const sizeGrowth = last.logSize / first.logSize;
    parts.push(
      `Rebuilding the projection took ${first.seconds.toFixed(1)} s for ${fmt(first.logSize)} events and ` +
        `${last.seconds.toFixed(1)} s for ${fmt(last.logSize)} (${fmt(first.eventsPerSecond)} → ${fmt(last.eventsPerSecond)} events/s): ` +
        (growth < sizeGrowth * 0.7
          ? `time grows slower than the log (${growth.toFixed(1)}× for ${sizeGrowth.toFixed(0)}× the events) because a fixed cost of a few seconds (tables, group join, swap) dominates small logs; ` +
            `the largest log rebuilt at ${fmt(last.eventsPerSecond)} events/s, about ${fmt((3_600 * last.eventsPerSecond) / 1e6)} million events an hour.`
          : `time grows with the log (${growth.toFixed(1)}× for ${sizeGrowth.toFixed(0)}× the events), about ${fmt((3_600 * last.eventsPerSecond) / 1e6)} million events an hour.`),
    );
  } else if (first) {
    parts.push(`Rebuilding the projection from ${fmt(first.logSize)} events took ${first.seconds.toFixed(1)} s.`);
  }
  if (f.loadAverage > 2 * f.cores) {
    parts.push(
      `The machine's load average reached ${f.loadAverage.toFixed(1)} on ${f.cores} cores during the run, so every figure carries that noise; compare them within this run, not across runs.`,
    );
  }
  return parts.join(' ');
}

function freshnessSentences(f: ProjectionFigures): string[] {
  const lo = f.freshness[0];
  const hi = f.freshness[f.freshness.length - 1];
  if (!lo) return [];
  const out = [
    `Freshness from the append's commit to the row in ClickHouse was p50 ${fmt(lo.p50Ms)} / p99 ${fmt(lo.p99Ms)} ms at ` +
      `${fmt(lo.rate)} appends/s` +
      (hi && hi !== lo ? ` and p50 ${fmt(hi.p50Ms)} / p99 ${fmt(hi.p99Ms)} ms at ${fmt(hi.rate)} appends/s` : '') +
      `, against a batch time of ${f.defaultBatchMs} ms` +
      (lo.p50Ms <= 2 * f.defaultBatchMs
        ? ': at a light load the broker holds each fetch for the batch time, waiting for bytes that do not come, so the batch time rather than the work sets freshness.'
        : ': well above it, so the projector (or the machine it shares) was the delay, not the batch time.'),
  ];
  const saturated = f.freshness.filter((r) => r.achieved < 0.9 * r.rate);
  if (saturated.length > 0) {
    const list = (xs: string[]) =>
      xs.length > 1 ? `${xs.slice(0, -1).join(', ')} and ${xs[xs.length - 1]}` : (xs[0] ?? '');
    out.push(
      `At ${list(saturated.map((r) => fmt(r.rate)))} appends/s asked the guard committed only ${list(saturated.map((r) => `${fmt(r.achieved)}/s`))} ` +
        `(append p99 ${list(saturated.map((r) => `${fmt(r.appendP99Ms)} ms`))}), so ${saturated.length > 1 ? 'those points measure' : 'that point measures'} the guard and the machine at their limit more than the projector.`,
    );
  } else if (hi && hi !== lo && hi.p99Ms > 2 * lo.p99Ms) {
    out.push(
      `The p99 grew ${(hi.p99Ms / lo.p99Ms).toFixed(1)}× with the load: larger batches take longer to decode and insert.`,
    );
  } else if (hi && hi !== lo) {
    out.push(
      `The load hardly moved it (p99 ${(hi.p99Ms / lo.p99Ms).toFixed(1)}×): batches grow with the load and an insert costs little more.`,
    );
  }
  return out;
}

/**
 * With a backlog a fetch returns as soon as its minimum bytes are there, so the batch time only delays the fetches
 * that find less waiting (the tail of the backlog): a few fetches' worth of the difference in batch time. A larger
 * gap than that is not the setting.
 */
function batchTimeSentence(fast: BatchFigures, slow: BatchFigures): string {
  const spread = Math.abs(slow.eventsPerSecond / fast.eventsPerSecond - 1);
  const head = `Batch times of ${fast.ms} and ${slow.ms} ms (at ${fmt(slow.rows)} rows) gave ${fmt(fast.eventsPerSecond)} and ${fmt(slow.eventsPerSecond)} events/s`;
  if (spread < 0.15)
    return `${head}: with a backlog every fetch fills by bytes at once, so the time bound does not limit throughput.`;
  const gapSeconds = Math.abs(slow.seconds - fast.seconds);
  const settingSeconds = (2 * (slow.ms - fast.ms)) / 1000;
  return gapSeconds > 2 * settingSeconds
    ? `${head}, a ${Math.round(spread * 100)}% gap, but with a backlog only the last fetches wait for the batch time (about ${settingSeconds.toFixed(1)} s of the ${gapSeconds.toFixed(1)} s between them), so most of it is the machine's noise, not the setting.`
    : `${head}: the longer batch time makes the fetches at the tail of the backlog wait for it, which shows on a backlog this short.`;
}

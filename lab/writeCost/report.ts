import { formatNumber, round } from '../../bench/support/figures.js';
import type { LabChart, LabTable } from '../core/experiment.js';
import type { PathId } from './options.js';
import { CLIENT, cpuPerAppendUs, type PointFigures } from './point.js';

/** One measured point of one path, with what the report needs of its path. */
export interface WritePoint {
  path: PathId;
  label: string;
  writers: number;
  figures: PointFigures;
  /** Names of the processes whose CPU is this path's cost. */
  processes: string[];
}

const cpuUs = (p: WritePoint) => cpuPerAppendUs(p.figures.cpu, p.processes, p.figures.appendsPerSecond);
const n = (x: number, digits = 0) => formatNumber(x, digits);
const cell = (x: number, digits: number) => (Number.isFinite(x) ? round(x, digits) : null);

function breakdown(p: WritePoint): string {
  return p.processes
    .map((name) => {
      const us = cpuPerAppendUs(p.figures.cpu, [name], p.figures.appendsPerSecond);
      return `${name === CLIENT ? 'client' : name} ${Number.isFinite(us) ? Math.round(us) : '—'}`;
    })
    .join(', ');
}

export function pointsTable(points: readonly WritePoint[], durability: ReadonlyMap<PathId, string>): LabTable {
  return {
    name: 'points',
    title: 'Every point: appends/s, latency per call, CPU per append of the processes doing the work',
    columns: [
      'path',
      'writers',
      'appends/s',
      'p50 ms',
      'p99 ms',
      'CPU µs/append',
      'CPU µs/append by process',
      'errors',
      'durability',
    ],
    rows: points.map((p) => [
      p.label,
      p.writers,
      cell(p.figures.appendsPerSecond, 0),
      cell(p.figures.latency.p50, 2),
      cell(p.figures.latency.p99, 2),
      cell(cpuUs(p), 0),
      breakdown(p),
      p.figures.errors,
      durability.get(p.path) ?? '',
    ]),
  };
}

function byPath(points: readonly WritePoint[]): Map<string, WritePoint[]> {
  const out = new Map<string, WritePoint[]>();
  for (const p of points) out.set(p.label, [...(out.get(p.label) ?? []), p]);
  return out;
}

const finiteOrNull = (x: number) => (Number.isFinite(x) && x > 0 ? x : null);

export function writeCostCharts(points: readonly WritePoint[]): LabChart[] {
  const paths = [...byPath(points)];
  const most = Math.max(...points.map((p) => p.writers));
  return [
    {
      name: 'throughput',
      title: 'Appends per second by writers',
      kind: 'line',
      x: { label: 'writers', log: true },
      y: { label: 'appends/s' },
      series: paths.map(([name, ps]) => ({
        name,
        points: ps.map((p) => [p.writers, finiteOrNull(round(p.figures.appendsPerSecond, 0))]),
      })),
    },
    {
      name: 'p99',
      title: 'p99 latency per call by writers',
      kind: 'line',
      x: { label: 'writers', log: true },
      y: { label: 'p99 ms', log: true },
      series: paths.map(([name, ps]) => ({
        name,
        points: ps.map((p) => [p.writers, finiteOrNull(round(p.figures.latency.p99, 2))]),
      })),
    },
    {
      name: 'cpu',
      title: `CPU per append at ${most} writers (client + the servers doing the work)`,
      kind: 'bar',
      x: { label: 'path', categories: true },
      y: { label: 'CPU µs per append' },
      series: [
        {
          name: `${most} writers`,
          points: points.filter((p) => p.writers === most).map((p) => [p.label, finiteOrNull(round(cpuUs(p), 0))]),
        },
      ],
    },
  ];
}

/** The writer count the reading speaks of: 64 when it was measured (the example), else the most. */
export function readingWriters(points: readonly WritePoint[]): number {
  const counts = points.map((p) => p.writers);
  return counts.includes(64) ? 64 : Math.max(...counts);
}

/** One paragraph from the figures: throughput, CPU and p99 compared across paths, with the durability each gives. */
export function writeCostReading(
  points: readonly WritePoint[],
  durability: ReadonlyMap<PathId, string>,
  kafkaReplication: number,
): string {
  if (points.length === 0) return 'No point was measured.';
  const w = readingWriters(points);
  const at = (path: PathId, writers = w) => points.find((p) => p.path === path && p.writers === writers);
  const out: string[] = [];
  const batched = at('guard-batched');
  const pg = at('postgres');
  const single = at('guard-single');
  const raw = at('raw-kafka');
  const atomic = at('guard-atomic');
  if (batched && pg) {
    const ratio = batched.figures.appendsPerSecond / pg.figures.appendsPerSecond;
    out.push(
      `At ${w} writers the guard's batches reached ${n(batched.figures.appendsPerSecond)} appends/s, ` +
        `${n(ratio, 1)}× Postgres's ${n(pg.figures.appendsPerSecond)}, with a p99 of ${n(batched.figures.latency.p99, 1)} ms ` +
        `against Postgres's ${n(pg.figures.latency.p99, 1)} ms.`,
    );
  } else {
    const best = points
      .filter((p) => p.writers === w)
      .reduce((a, b) => (b.figures.appendsPerSecond > a.figures.appendsPerSecond ? b : a));
    out.push(`At ${w} writers the fastest path was ${best.label} at ${n(best.figures.appendsPerSecond)} appends/s.`);
  }
  if (single && raw)
    out.push(
      `Single guarded appends cost ${n(cpuUs(single))} µs of CPU each (client, guard, Redis and Kafka) against raw ` +
        `Kafka's ${n(cpuUs(raw))} µs for a transaction per append with no check` +
        (pg ? ` and Postgres's ${n(cpuUs(pg))} µs` : '') +
        `; they ran at ${n(single.figures.appendsPerSecond)} appends/s to raw Kafka's ${n(raw.figures.appendsPerSecond)}.`,
    );
  if (batched && single)
    out.push(
      `Coalescing cut the guard's CPU per append to ${n(cpuUs(batched))} µs (${n(cpuUs(single) / cpuUs(batched), 1)}× less than single appends).`,
    );
  if (atomic)
    out.push(
      `Atomic batches wrote ${n(atomic.figures.appendsPerSecond)} appends/s at ${n(cpuUs(atomic))} µs each, p99 ${n(atomic.figures.latency.p99, 1)} ms per batch.`,
    );
  const one = at('postgres', Math.min(...points.map((p) => p.writers)));
  if (pg && one)
    out.push(
      `Postgres's p99 went from ${n(one.figures.latency.p99, 1)} ms at ${one.writers} writer(s) to ${n(pg.figures.latency.p99, 1)} ms at ${w}.`,
    );
  const kafkaSide = durability.get('guard-single') ?? durability.get('guard-batched') ?? durability.get('raw-kafka');
  const pgSide = durability.get('postgres');
  if (kafkaSide && pgSide)
    out.push(
      `The durability differs: Postgres acknowledges with ${pgSide}; the guard's paths ` +
        `acknowledge with ${kafkaSide}, ` +
        (kafkaReplication > 1
          ? `so an acknowledged append survives the loss of a machine through its ${kafkaReplication} replicas, not through a disk flush.`
          : "so on this one-replica topic an acknowledged append rests on the OS's page cache until it is flushed."),
    );
  return out.join(' ');
}

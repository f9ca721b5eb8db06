import { describe, expect, it } from 'vitest';
import type { PathId } from './options.js';
import type { PointFigures } from './point.js';
import { pointsTable, readingWriters, type WritePoint, writeCostCharts, writeCostReading } from './report.js';

const figures = (appendsPerSecond: number, p99: number, cpu: Record<string, number>): PointFigures => ({
  appendsPerSecond,
  latency: { p50: p99 / 4, p99, max: p99 * 2, mean: p99 / 3 },
  cpu,
  errors: 0,
});

const point = (path: PathId, label: string, writers: number, f: PointFigures, processes: string[]): WritePoint => ({
  path,
  label,
  writers,
  figures: f,
  processes,
});

const guard = ['bench client', 'guard', 'redis', 'kafka'];
const points: WritePoint[] = [
  point('raw-kafka', 'raw Kafka', 1, figures(500, 5, { 'bench client': 10, kafka: 10 }), ['bench client', 'kafka']),
  point('postgres', 'Postgres', 1, figures(400, 4, { 'bench client': 4, postgres: 8 }), ['bench client', 'postgres']),
  point('raw-kafka', 'raw Kafka', 64, figures(2000, 50, { 'bench client': 40, kafka: 40 }), ['bench client', 'kafka']),
  point(
    'guard-single',
    'guarded single',
    64,
    figures(1000, 80, { 'bench client': 20, guard: 40, redis: 10, kafka: 30 }),
    guard,
  ),
  point(
    'guard-batched',
    'guarded batches',
    64,
    figures(8000, 20, { 'bench client': 40, guard: 60, redis: 20, kafka: 40 }),
    guard,
  ),
  point('postgres', 'Postgres', 64, figures(2000, 120, { 'bench client': 20, postgres: 100 }), [
    'bench client',
    'postgres',
  ]),
];
const durability = new Map<PathId, string>([
  ['postgres', 'fsync per commit (synchronous_commit=on)'],
  ['guard-single', 'Kafka replication factor 1 with acks=all, no fsync (flush by the OS); Redis appendfsync everysec'],
]);

describe('write-cost report', () => {
  it('speaks of 64 writers when they were measured, else of the most', () => {
    expect(readingWriters(points)).toBe(64);
    expect(readingWriters(points.filter((p) => p.writers === 1))).toBe(1);
  });

  it('reads the figures: batches against Postgres, CPU of single appends against raw Kafka, durability', () => {
    const text = writeCostReading(points, durability, 1);
    expect(text).toContain("At 64 writers the guard's batches reached 8,000 appends/s, 4.0× Postgres's 2,000");
    // single: 100% of a core over 1000/s = 1000 µs; raw: 80% over 2000/s = 400 µs; Postgres: 120% / 2000 = 600 µs
    expect(text).toContain(
      "Single guarded appends cost 1,000 µs of CPU each (client, guard, Redis and Kafka) against raw Kafka's 400 µs",
    );
    expect(text).toContain("Postgres's 600 µs");
    expect(text).toContain("Postgres's p99 went from 4.0 ms at 1 writer(s) to 120.0 ms at 64");
    expect(text).toContain('fsync per commit (synchronous_commit=on)');
    expect(text).toContain('page cache');
    expect(writeCostReading(points, durability, 3)).toContain('3 replicas');
  });

  it('tabulates every point with its durability and draws the three charts', () => {
    const table = pointsTable(points, durability);
    expect(table.rows).toHaveLength(points.length);
    const cpuColumn = table.columns.indexOf('CPU µs/append');
    expect(table.rows[3]?.[cpuColumn]).toBe(1000);
    expect(table.rows[3]?.at(-1)).toContain('appendfsync everysec');
    const charts = writeCostCharts(points);
    expect(charts.map((c) => c.name)).toEqual(['throughput', 'p99', 'cpu']);
    expect(charts[0]?.x.log).toBe(true);
    expect(charts[1]?.y.log).toBe(true);
    // the bar chart is at the largest writer count only
    expect(charts[2]?.series[0]?.points.map((p) => p[0])).toEqual([
      'raw Kafka',
      'guarded single',
      'guarded batches',
      'Postgres',
    ]);
  });
});

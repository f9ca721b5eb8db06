import { describe, expect, it } from 'vitest';
import type { BatchFigures } from './batchThroughput.js';
import type { FreshnessFigures } from './freshnessUnderLoad.js';
import { type ProjectionFigures, projectionCharts, projectionReading, projectionTables } from './projectionReport.js';

const batch = (rows: number, ms: number, eventsPerSecond: number): BatchFigures => ({
  rows,
  ms,
  events: 20_000,
  rowsWritten: 20_000,
  seconds: 20_000 / eventsPerSecond,
  eventsPerSecond,
  joinSeconds: 0.1,
  inserts: Math.ceil(20_000 / rows),
  meanRowsPerInsert: rows,
  meanInsertMs: 10,
});
const fresh = (rate: number, achieved: number, p50Ms: number, p99Ms: number): FreshnessFigures => ({
  rate,
  achieved,
  failed: 0,
  poolWaits: 0,
  appendP50Ms: 10,
  appendP99Ms: 40,
  events: achieved * 4,
  p50Ms,
  p99Ms,
  maxMs: p99Ms + 10,
});

const figures: ProjectionFigures = {
  events: 20_000,
  preloadEventsPerSecond: 30_000,
  defaultBatchMs: 250,
  loadAverage: 1.5,
  cores: 2,
  batches: [batch(100, 250, 5_000), batch(1000, 250, 20_000), batch(1000, 50, 19_000)],
  freshness: [fresh(100, 100, 160, 290), fresh(1000, 990, 170, 320)],
  rebuilds: [
    { logSize: 5_000, preloadSeconds: 1, seconds: 3, eventsPerSecond: 5_000 / 3 },
    { logSize: 50_000, preloadSeconds: 2, seconds: 5, eventsPerSecond: 10_000 },
  ],
};

describe('projection report', () => {
  it('reads the figures it is given', () => {
    const reading = projectionReading(figures);
    expect(reading).toContain('5,000 events/s with inserts of 100 rows and 20,000 with 1,000 rows (4.0×)');
    expect(reading).toContain('the time bound does not limit throughput');
    expect(reading).toContain('p50 160 / p99 290 ms at 100 appends/s');
    expect(reading).toContain('batch time rather than the work sets freshness');
    expect(reading).toContain('hardly moved');
    expect(reading).toContain('3.0 s for 5,000 events and 5.0 s for 50,000');
    expect(reading).toContain('grows slower than the log');
  });

  it('tells a batch-time gap larger than the setting can make from one it can', () => {
    const noisy = projectionReading({ ...figures, batches: [batch(1000, 250, 2_000), batch(1000, 50, 4_000)] });
    expect(noisy).toContain("most of it is the machine's noise");
    const tail = projectionReading({ ...figures, batches: [batch(1000, 1000, 2_000), batch(1000, 50, 2_400)] });
    expect(tail).toContain('the fetches at the tail of the backlog wait');
  });

  it('says when batches were replayed', () => {
    const replay = { ...batch(100, 250, 5_000), rowsWritten: 29_000 };
    expect(projectionReading({ ...figures, batches: [replay, batch(1000, 250, 20_000)] })).toContain(
      'Some batches were written twice (9,000 rows at 100 rows / 250 ms)',
    );
    expect(projectionReading(figures)).not.toContain('written twice');
  });

  it('warns of a loaded machine', () => {
    expect(projectionReading({ ...figures, loadAverage: 12 })).toContain('load average reached 12.0 on 2 cores');
    expect(projectionReading(figures)).not.toContain('load average');
  });

  it('says when the guard could not keep up with a rate', () => {
    const reading = projectionReading({
      ...figures,
      freshness: [fresh(100, 100, 160, 290), fresh(5000, 2_000, 900, 2_500)],
    });
    expect(reading).toContain('At 5,000 appends/s asked the guard committed only 2,000/s');
  });

  it('charts batch size and rebuild size on log axes, batch time only when several were measured', () => {
    const names = projectionCharts(figures).map((c) => [c.name, c.x.log === true]);
    expect(names).toEqual([
      ['events-per-second-by-batch-size', true],
      ['events-per-second-by-batch-time', true],
      ['freshness-by-rate', true],
      ['rebuild-seconds-by-log-size', true],
      ['rebuild-rate-by-log-size', true],
    ]);
    const single = projectionCharts({ ...figures, batches: figures.batches.slice(0, 2) }).map((c) => c.name);
    expect(single).not.toContain('events-per-second-by-batch-time');
  });

  it('tables one row per measurement', () => {
    const [batches, freshness, rebuilds] = projectionTables(figures);
    expect(batches?.rows).toHaveLength(3);
    expect(freshness?.rows.map((r) => r[0])).toEqual([100, 1000]);
    expect(rebuilds?.rows.map((r) => r[0])).toEqual([5_000, 50_000]);
  });
});

import { describe, expect, it } from 'vitest';
import { type ColdReadRow, coldReadCharts, coldReadReading, coldReadTable, firstSlower } from './coldReadFigures.js';

const row = (offsets: number, scanMs: number, indexedMs: number, postgresMs: number): ColdReadRow => ({
  offsets,
  events: 100,
  scanMs,
  indexedMs,
  postgresMs,
  fetches: 100,
  load: 2,
});

const rows = [row(1000, 5, 20, 2), row(10_000, 40, 22, 2.5), row(100_000, 400, 25, 3)];

describe('cold-read figures', () => {
  it('tabulates each way in ms and events/s', () => {
    const table = coldReadTable(rows);
    expect(table.rows[0]).toEqual([1000, 100, 5, 20, 2, 20000, 5000, 50000, 100, 2]);
    expect(table.columns).toHaveLength(table.rows[0]?.length ?? 0);
  });

  it('draws load time against P on log axes, one series per way', () => {
    const [chart] = coldReadCharts(rows);
    expect(chart?.x.log).toBe(true);
    expect(chart?.y.log).toBe(true);
    expect(chart?.series.map((s) => s.name)).toEqual([
      'partition scan (raw Kafka)',
      'kes indexed read',
      'Postgres get_stream_messages',
    ]);
    expect(chart?.series[0]?.points).toEqual([
      [1000, 5],
      [10_000, 40],
      [100_000, 400],
    ]);
  });

  it('finds where one curve overtakes another, and only a real crossing', () => {
    expect(firstSlower(rows, 'scanMs', 'indexedMs')?.offsets).toBe(10_000);
    expect(firstSlower(rows, 'scanMs', 'postgresMs')).toBeUndefined(); // slower from the start: no crossing
    expect(firstSlower(rows, 'postgresMs', 'indexedMs')).toBeUndefined();
  });

  it('reads the figures: ends, growth, crossing, ratios', () => {
    const reading = coldReadReading(rows);
    expect(reading).toContain('from 10^3 offsets took partition scan 5 ms, kes indexed read 20 ms, Postgres 2 ms');
    expect(reading).toContain('100-fold growth');
    expect(reading).toContain("scan's time grew 80-fold (log-log slope 0.95)");
    expect(reading).toContain('fetches went from 100 to 100');
    expect(reading).toContain('the scan cost 4 µs per offset, the indexed read 0.25 ms and Postgres 0.03 ms per event');
    expect(reading).toContain(
      'partition scan (raw Kafka) falls behind kes indexed read at 10^4 offsets (40 ms against 22 ms)',
    );
    expect(reading).toContain('fastest was the Postgres get_stream_messages');
    expect(reading).toContain('the scan took 16 times the indexed read');
  });

  it('says so when nothing was measured', () => {
    expect(coldReadReading([])).toMatch(/No partition size/);
  });
});

import { readFileSync } from 'node:fs';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';

/** The parts of an ECharts option these tests look at. */
interface Option {
  xAxis: { type: string; data?: unknown[] };
  series: { name: string; type: string; data: unknown[] }[];
}

/** charts.js is a classic browser script: run it with a bare `window` and take what it defines. */
function loadCharts() {
  const window: Record<string, unknown> = {};
  runInNewContext(readFileSync(new URL('./charts.js', import.meta.url), 'utf8'), { window });
  return window.kesCharts as {
    pipelineCharts(
      frames: unknown[],
    ): Record<string, { option: Option; points: number; nonZero: number; latest: number | null }>;
    reportChart(report: unknown): { option: Option; points: number };
  };
}

const frame = (t: number, written: number, p50: number | null) => ({
  t,
  appendsPerSec: { written, conflict: 1 },
  appendsTotalPerSec: written + 1,
  eventsPerSec: written,
  commandsPerSec: 0,
  latencyMs: { p50, p90: p50, p99: p50 },
  conflictsPerSec: 1,
  groupCommit: { mean: 2, p50: 2, p99: 4, perSec: 5 },
  queued: 0,
  projectorLag: 3,
  freshnessMs: { p50: 100, p99: 200 },
  rowsPerSec: written,
  deadLetters: 0,
  deadLettersPerSec: 0,
  redisRetriesPerSec: 0,
  kafkaRetriesPerSec: 0,
});

describe('the page charts', () => {
  const charts = loadCharts();

  it('draws one stacked line per outcome, and counts points, non-zero points and the latest value', () => {
    const drawn = charts.pipelineCharts([frame(1000, 0, null), frame(2000, 10, 5), frame(3000, 20, 6)]);
    expect(drawn.appends?.option.series.map((s: { name: string }) => s.name)).toEqual(['written', 'conflict']);
    expect(drawn.appends).toMatchObject({ points: 3, nonZero: 3, latest: 21 });
    // No appends, no latency: a gap ('-'), not a zero.
    expect(drawn.latency?.option.series[0]?.data[0]).toEqual([1000, '-']);
    expect(drawn.latency).toMatchObject({ points: 2, latest: 6 });
  });

  it('draws a report over minutes as lines per category, summed over its other text columns', () => {
    const { option, points } = charts.reportChart({
      columns: [
        { name: 'minute', kind: 'minute' },
        { name: 'category', kind: 'text' },
        { name: 'type', kind: 'text' },
        { name: 'events', kind: 'count' },
      ],
      rows: [
        { minute: '2026-12-04T05:42:00.000Z', category: 'account', type: 'A', events: 2 },
        { minute: '2026-12-04T05:42:00.000Z', category: 'account', type: 'B', events: 3 },
        { minute: '2026-12-04T05:43:00.000Z', category: 'transfer', type: 'C', events: 1 },
      ],
    });
    expect(points).toBe(2);
    expect(option.xAxis.type).toBe('time');
    expect(option.series.map((s: { name: string; data: unknown }) => [s.name, s.data])).toEqual([
      ['account', [[Date.parse('2026-12-04T05:42:00.000Z'), 5]]],
      ['transfer', [[Date.parse('2026-12-04T05:43:00.000Z'), 1]]],
    ]);
  });

  it('draws days as bars per bucket, and other reports as bars labelled to be told apart', () => {
    const daily = charts.reportChart({
      columns: [
        { name: 'day', kind: 'day' },
        { name: 'currency', kind: 'text' },
        { name: 'external_in', kind: 'amount' },
      ],
      rows: [{ day: '2026-12-04T00:00:00.000Z', currency: 'EUR', external_in: 7 }],
    });
    expect(daily.option.xAxis).toMatchObject({ type: 'category', data: ['2026-12-04'] });
    expect(daily.option.series[0]).toMatchObject({ name: 'EUR', type: 'bar', data: [7] });

    const transfers = charts.reportChart({
      columns: [
        { name: 'state', kind: 'text' },
        { name: 'currency', kind: 'text' },
        { name: 'transfers', kind: 'count' },
      ],
      rows: [
        { state: 'completed', currency: 'EUR', transfers: 3 },
        { state: 'completed', currency: 'USD', transfers: 1 },
      ],
    });
    expect(transfers.option.xAxis.data).toEqual(['completed · EUR', 'completed · USD']);
    expect(transfers.points).toBe(2);
  });

  it('has nothing to draw for a report without numbers', () => {
    expect(charts.reportChart({ columns: [{ name: 'a', kind: 'text' }], rows: [{ a: 'x' }] }).option).toBeUndefined();
  });
});

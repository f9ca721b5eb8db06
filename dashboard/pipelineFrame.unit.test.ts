import { describe, expect, it } from 'vitest';
import { type Frame, frameBetween, RollingWindow, type Scrape, totalsOf } from './pipelineFrame.js';
import { parsePrometheusText } from './prometheusText.js';

function guardText(written: number, conflicts: number, fastAppends: number): string {
  return [
    `kes_guard_appends_total{outcome="written"} ${written}`,
    `kes_guard_appends_total{outcome="conflict"} ${conflicts}`,
    `kes_guard_events_written_total ${written}`,
    `kes_guard_append_seconds_bucket{le="0.005"} ${fastAppends}`,
    `kes_guard_append_seconds_bucket{le="0.01"} ${written + conflicts}`,
    `kes_guard_append_seconds_bucket{le="+Inf"} ${written + conflicts}`,
    `kes_guard_append_seconds_sum 1`,
    `kes_guard_append_seconds_count ${written + conflicts}`,
    `kes_guard_group_commit_appends_bucket{le="4"} ${written / 4}`,
    `kes_guard_group_commit_appends_bucket{le="8"} ${written / 4}`,
    `kes_guard_group_commit_appends_bucket{le="+Inf"} ${written / 4}`,
    `kes_guard_group_commit_appends_sum ${written}`,
    `kes_guard_group_commit_appends_count ${written / 4}`,
    'kes_guard_queued_appends 3',
    'kes_guard_requeued_total{reason="redis"} 0',
  ].join('\n');
}

function projectorText(rows: number, lag: number, dead: number): string {
  return [
    `kes_projector_rows_total{projection="events"} ${rows}`,
    `kes_projector_lag_records{projection="events",topic="t",partition="0"} ${lag}`,
    `kes_projector_lag_records{projection="events",topic="t",partition="1"} ${lag}`,
    `kes_projector_dead_letters_total{projection="events",reason="decode"} ${dead}`,
    `kes_projector_freshness_seconds_bucket{projection="events",le="0.5"} ${rows}`,
    `kes_projector_freshness_seconds_bucket{projection="events",le="+Inf"} ${rows}`,
  ].join('\n');
}

const at = (t: number, guard: string, projector: string): Scrape => ({
  t,
  guard: parsePrometheusText(guard),
  projector: parsePrometheusText(projector),
});

describe('frameBetween', () => {
  it('turns two scrapes into rates, quantiles and gauges', () => {
    const before = at(1000, guardText(100, 10, 50), projectorText(80, 5, 0));
    const after = at(3000, guardText(300, 30, 150), projectorText(280, 2, 1));
    const frame = frameBetween(before, after);
    expect(frame.t).toBe(3000);
    expect(frame.appendsPerSec).toEqual({ written: 100, conflict: 10 });
    expect(frame.appendsTotalPerSec).toBe(110);
    expect(frame.eventsPerSec).toBe(100);
    expect(frame.conflictsPerSec).toBe(10);
    // 100 of the 220 appends of the interval took ≤ 5 ms, the other 120 ≤ 10 ms: the median is 5 + 5 · 10/120 ms.
    expect(frame.latencyMs.p50).toBeCloseTo(5.417, 2);
    expect(frame.latencyMs.p99).toBeLessThanOrEqual(10);
    expect(frame.groupCommit.mean).toBe(4);
    expect(frame.groupCommit.perSec).toBe(25);
    expect(frame.queued).toBe(3);
    expect(frame.projectorLag).toBe(4);
    expect(frame.rowsPerSec).toBe(100);
    expect(frame.freshnessMs.p50).toBeCloseTo(250);
    expect(frame.deadLetters).toBe(1);
    expect(frame.deadLettersPerSec).toBe(0.5);
    expect(frame.redisRetriesPerSec).toBe(0);
  });

  it('has null quantiles for an interval without appends', () => {
    const same = at(1000, guardText(100, 0, 100), projectorText(0, 0, 0));
    const frame = frameBetween(same, { ...same, t: 2000 });
    expect(frame.appendsTotalPerSec).toBe(0);
    expect(frame.latencyMs).toEqual({ p50: null, p90: null, p99: null });
    expect(frame.groupCommit.mean).toBeNull();
  });

  it('totals counters since start, conflicts included', () => {
    const totals = totalsOf(at(0, guardText(40, 4, 0), projectorText(30, 0, 2)));
    expect(totals).toEqual({
      appends: 44,
      appendsBy: { written: 40, conflict: 4 },
      conflicts: 4,
      events: 40,
      rows: 30,
      deadLetters: 2,
    });
  });
});

describe('RollingWindow', () => {
  it('keeps the frames of the last window only', () => {
    const window = new RollingWindow(5000);
    for (const t of [0, 2000, 4000, 6000, 8000]) window.add({ t } as Frame);
    expect(window.all().map((f) => f.t)).toEqual([4000, 6000, 8000]);
    expect(window.latest()?.t).toBe(8000);
  });
});

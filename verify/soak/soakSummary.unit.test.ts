import { describe, expect, it } from 'vitest';
import type { CheckSummary } from '../history/checkTypes.js';
import type { InjectedFault } from './injectors.js';
import { renderSoakSummary, type SoakRecord, soakPassed, summarizeSoak } from './soakSummary.js';

const fault = (kind: InjectedFault['kind'], startMs: number, happened = true): InjectedFault => ({
  index: 0,
  kind,
  target: 0,
  durationMs: 0,
  startMs,
  endMs: startMs + 100,
  happened,
  note: '',
});

function record(overrides: Partial<SoakRecord> = {}): SoakRecord {
  // One success every 10 ms over 0..10 s, except 2.0-3.0 s (after the guard kill) and 6.0-6.5 s (after the wipe).
  const okTimesMs: number[] = [];
  for (let t = 0; t < 10_000; t += 10) if (!(t >= 2_000 && t < 3_000) && !(t >= 6_000 && t < 6_500)) okTimesMs.push(t);
  return {
    seed: 1,
    kinds: ['guard-kill', 'redis-wipe', 'broker-kill'],
    startMs: 0,
    loadEndMs: 10_000,
    endMs: 12_000,
    appends: { acknowledged: 950, logical: 1000, attempts: 1100, conflicts: 40, unknown: 0, rejected: 10 },
    faults: [fault('redis-wipe', 6_000), fault('guard-kill', 2_000), fault('guard-kill', 8_000, false)],
    okTimesMs,
    rebuilds: { count: 2, eventsApplied: 900, ms: 400 },
    watchdogRestarts: {},
    check: { summary: { committedEvents: 1900, violationsByInvariant: {} } as CheckSummary, violations: [] },
    ...overrides,
  };
}

describe('summarizeSoak', () => {
  it('adds up stall over the load and after each kind of fault, and the faults that happened', () => {
    const s = summarizeSoak(record());
    expect(s.stallSeconds).toBe(1.5);
    expect(s.appendsPerSecond).toBe(95);
    expect(s.faultsPlanned).toBe(3);
    expect(s.faultsHappened).toBe(2);
    const byKind = Object.fromEntries(s.faults.map((f) => [f.kind, f]));
    // The guard kill's window runs to the wipe (2-6 s), the wipe's to the next kill (6-8 s).
    expect(byKind['guard-kill']).toMatchObject({ planned: 2, happened: 1, stallMs: 1_000 });
    expect(byKind['redis-wipe']).toMatchObject({ planned: 1, happened: 1, stallMs: 500 });
    expect(byKind['guard-kill']?.longestGapMs).toBe(1_000); // from the kill at 2 s to the first success at 3 s
    expect(s.missingKinds).toEqual(['broker-kill']);
    expect(soakPassed(s)).toBe(true);
    expect(renderSoakSummary(s)).toMatch(/appends acknowledged {2}950 \(95\/s\)[\s\S]*PASS: no violations/);
  });

  it('fails on a violation, or when the check did not run', () => {
    const violated = summarizeSoak(
      record({
        check: {
          summary: { committedEvents: 1, violationsByInvariant: { '3': 1 } } as unknown as CheckSummary,
          violations: [{ invariant: 3, stream: 'account-1', detail: 'answered conflict but is in Kafka' }],
        },
      }),
    );
    expect(soakPassed(violated)).toBe(false);
    expect(renderSoakSummary(violated)).toMatch(
      /violations {12}1 \(invariant 3 1\)\n {4}invariant 3: account-1 answered/,
    );
    const unchecked = summarizeSoak(record({ check: undefined, checkError: 'kafka unreachable' }));
    expect(soakPassed(unchecked)).toBe(false);
    expect(renderSoakSummary(unchecked)).toMatch(/did not run: kafka unreachable[\s\S]*FAIL$/);
  });
});

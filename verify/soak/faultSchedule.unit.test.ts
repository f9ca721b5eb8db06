import { describe, expect, it } from 'vitest';
import {
  FAULT_KINDS,
  type FaultKind,
  faultSchedule,
  KILL_FAILPOINTS,
  type PlannedFault,
  parseFaultKinds,
  type ScheduleOptions,
  STOP_FAILPOINTS,
} from './faultSchedule.js';

const base: ScheduleOptions = { seed: 42, kinds: FAULT_KINDS, guards: 3, projectors: 2, meanGapMs: 10_000 };

function take(options: ScheduleOptions, n: number): PlannedFault[] {
  const out: PlannedFault[] = [];
  for (const fault of faultSchedule(options)) {
    out.push(fault);
    if (out.length === n) break;
  }
  return out;
}

describe('faultSchedule', () => {
  it('gives the same plan for the same seed, another for another seed', () => {
    expect(take(base, 60)).toEqual(take(base, 60));
    expect(take({ ...base, seed: 43 }, 60)).not.toEqual(take(base, 60));
  });

  it('has every kind once in the first round, so a short run still meets each fault', () => {
    const first = take(base, FAULT_KINDS.length);
    expect(new Set(first.map((f) => f.kind))).toEqual(new Set(FAULT_KINDS));
    expect(first.every((f) => f.round === 0)).toBe(true);
  });

  it('brings a Redis wipe only every fourth round by default, every other kind every round', () => {
    const plan = take(base, 400);
    const rounds = new Map<number, FaultKind[]>();
    for (const f of plan) rounds.set(f.round, [...(rounds.get(f.round) ?? []), f.kind]);
    for (const [round, kinds] of rounds) {
      if (round === Math.max(...rounds.keys())) continue; // the last round may be cut short
      expect(kinds.includes('redis-wipe')).toBe(round % 4 === 0);
      expect(kinds.filter((k) => k !== 'redis-wipe').sort()).toEqual(
        FAULT_KINDS.filter((k) => k !== 'redis-wipe').sort(),
      );
    }
    const everyRound = take({ ...base, periods: { 'redis-wipe': 1 } }, 30 * FAULT_KINDS.length);
    expect(everyRound.filter((f) => f.kind === 'redis-wipe')).toHaveLength(30);
  });

  it('keeps gaps, targets, failpoints and durations within their ranges', () => {
    for (const f of take({ ...base, seed: 7 }, 500)) {
      expect(f.gapMs).toBeGreaterThanOrEqual(5_000);
      expect(f.gapMs).toBeLessThanOrEqual(15_000);
      const targets = f.kind.startsWith('guard') ? 3 : f.kind === 'projector-kill' ? 2 : 1;
      expect(f.target).toBeGreaterThanOrEqual(0);
      expect(f.target).toBeLessThan(targets);
      if (f.kind === 'guard-kill-failpoint') expect(KILL_FAILPOINTS).toContain(f.failpoint);
      else if (f.kind === 'guard-zombie-failpoint') {
        expect(STOP_FAILPOINTS).toContain(f.failpoint);
        expect(f.durationMs).toBeGreaterThan(3_000); // frozen past the lease
      } else expect(f.failpoint).toBeUndefined();
    }
  });

  it('numbers faults in order and plans only the kinds asked for', () => {
    const plan = take({ ...base, kinds: ['broker-kill', 'guard-stop'] }, 10);
    expect(plan.map((f) => f.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(new Set(plan.map((f) => f.kind))).toEqual(new Set(['broker-kill', 'guard-stop']));
    expect(take({ ...base, kinds: [] }, 5)).toEqual([]);
  });

  it('parses a fault list and names a bad kind', () => {
    expect(parseFaultKinds('all')).toEqual([...FAULT_KINDS]);
    expect(parseFaultKinds('none')).toEqual([]);
    expect(parseFaultKinds('guard-kill, redis-wipe,guard-kill')).toEqual(['guard-kill', 'redis-wipe']);
    expect(() => parseFaultKinds('guard-kill,redis-flush')).toThrow(/unknown fault 'redis-flush'/);
  });
});

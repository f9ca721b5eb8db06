import { describe, expect, it } from 'vitest';
import { checkHistory } from './checkHistory.js';
import type { CommittedEvent } from './committedEvents.js';
import type { AppendAttempt, AttemptOutcome } from './history.js';

/**
 * The atomic-group rule: the attempts of one appendAtomically call (same atomicGroup) are in the log entirely or
 * not at all, in one transaction (one producer id and epoch, one commit time).
 */
const T = 'k.acct';
const tx = { producerId: '7', producerEpoch: 3, timeMs: 1_000 };

function ev(stream: string, eventId: string, partition: number, offset: number, at = tx): CommittedEvent {
  return { topic: T, partition, offset, stream, version: 0, eventId, type: 'Opened', ...at };
}

function item(
  stream: string,
  ids: string[],
  outcome: AttemptOutcome,
  extra: Partial<AppendAttempt> = {},
): AppendAttempt {
  return {
    op: 'append',
    client: 'w1',
    stream,
    expectedVersion: 'no_stream',
    eventIds: ids,
    attempt: 1,
    startMs: 100,
    endMs: 110,
    atomicGroup: 'g1',
    outcome,
    ...extra,
  };
}

const ok = (partition: number, offset: number): AttemptOutcome => ({
  status: 'ok',
  firstVersion: 0,
  lastVersion: 0,
  topic: T,
  partition,
  offset,
});
const unknown: AttemptOutcome = { status: 'indeterminate', reason: 'outcome_unknown' };
const aborted: AttemptOutcome = { status: 'rejected', httpStatus: 409, code: 'batch_aborted' };

describe('atomic groups', () => {
  it('a group written whole in one transaction, and a refused group with nothing written, are clean', () => {
    const committed = [ev('acct-1', 'a', 0, 4), ev('acct-2', 'b', 1, 9)];
    const attempts = [
      item('acct-1', ['a'], ok(0, 4)),
      item('acct-2', ['b'], ok(1, 9)),
      item('acct-3', ['c'], { status: 'conflict', actual: -1 }, { atomicGroup: 'g2', expectedVersion: 0 }),
      item('acct-4', ['d'], aborted, { atomicGroup: 'g2' }),
    ];
    const r = checkHistory(attempts, committed);
    expect(r.violations).toEqual([]);
    expect(r.summary).toMatchObject({ atomicGroups: 2, atomicGroupsWritten: 1 });
    expect(r.summary.violationsByInvariant.atomic).toBe(0);
  });

  it('an outcome-unknown group whose retry answered from the first write is clean', () => {
    const committed = [ev('acct-1', 'a', 0, 4), ev('acct-2', 'b', 1, 9)];
    const attempts = [
      item('acct-1', ['a'], unknown),
      item('acct-2', ['b'], unknown),
      item('acct-1', ['a'], ok(0, 4), { attempt: 2, startMs: 200, endMs: 210 }),
      item('acct-2', ['b'], ok(1, 9), { attempt: 2, startMs: 200, endMs: 210 }),
    ];
    expect(checkHistory(attempts, committed).violations).toEqual([]);
  });

  it('a group in the log only in part is a violation naming what is missing', () => {
    // Both items were left unknown: each alone passes invariant 4 (once or not at all), the group does not.
    const committed = [ev('acct-1', 'a', 0, 4)];
    const attempts = [item('acct-1', ['a'], unknown), item('acct-2', ['b'], unknown)];
    const r = checkHistory(attempts, committed);
    expect(r.violations.map((v) => v.invariant)).toEqual(['atomic']);
    expect(r.violations[0]?.eventIds).toEqual(['b']);
    expect(r.violations[0]?.detail).toMatch(/only in part: 1 of 2 event\(s\) committed/);
  });

  it('a group written whole but by two transactions is a violation', () => {
    for (const other of [
      { ...tx, producerEpoch: 4 }, // the same producer after a fence
      { ...tx, producerId: '8' }, // another guard's producer
      { ...tx, timeMs: 1_001 }, // the same producer's next group commit
    ]) {
      const committed = [ev('acct-1', 'a', 0, 4), ev('acct-2', 'b', 1, 9, other)];
      const attempts = [item('acct-1', ['a'], ok(0, 4)), item('acct-2', ['b'], ok(1, 9))];
      const r = checkHistory(attempts, committed);
      expect(r.violations.map((v) => v.invariant)).toEqual(['atomic']);
      expect(r.violations[0]?.detail).toMatch(/written by 2 transactions, not one/);
    }
  });

  it('histories without atomic groups keep the summary they had', () => {
    const { atomicGroup: _, ...single } = item('acct-1', ['a'], ok(0, 4));
    const r = checkHistory([single], [ev('acct-1', 'a', 0, 4)]);
    expect(r.violations).toEqual([]);
    expect(r.summary.atomicGroups).toBe(0);
    expect('atomic' in r.summary.violationsByInvariant).toBe(false);
  });
});

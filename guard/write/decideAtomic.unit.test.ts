import { describe, expect, it } from 'vitest';
import { EventIdConflictError, WrongExpectedVersionError } from '../../pipeline/errors.js';
import type { AppendOutcome } from '../append/appendOutcome.js';
import { type AtomicMember, decideAtomic } from './decideAtomic.js';
import type { PartitionDecision } from './decideReserveAnswers.js';

const member = (index: number): AtomicMember => ({
  append: { stream: `account-${index}`, events: [{ id: `e${index}` }] },
  index,
});
const outcome = (m: AtomicMember): AppendOutcome => ({
  stream: m.append.stream,
  firstVersion: 0,
  lastVersion: 0,
  topic: 't',
  partition: 0,
  offset: 7,
  duplicate: true,
});
const part = (partition: number, items: AtomicMember[], decision: PartitionDecision<AtomicMember>) => ({
  topic: 't',
  partition,
  items,
  decision,
});
const [a, b, c] = [member(0), member(1), member(2)];

describe('decideAtomic', () => {
  it('writes when every member is reserved, kept per partition', () => {
    const d = decideAtomic(3, [
      part(0, [a, c], {
        kind: 'each',
        decisions: [
          { kind: 'write', item: a, first: 0, last: 0 },
          { kind: 'write', item: c, first: 4, last: 4 },
        ],
      }),
      part(1, [b], { kind: 'each', decisions: [{ kind: 'write', item: b, first: 2, last: 2 }] }),
    ]);
    expect(d.kind).toBe('write');
    if (d.kind === 'write')
      expect(d.reserved.map((p) => [p.partition, p.appends.map((r) => r.item.index)])).toEqual([
        [0, [0, 2]],
        [1, [1]],
      ]);
  });

  it('refuses the batch when one member conflicts: only that member carries an error', () => {
    const conflict = new WrongExpectedVersionError('account-1', 3, 5);
    const d = decideAtomic(3, [
      part(0, [a, c], {
        kind: 'each',
        decisions: [
          { kind: 'write', item: a, first: 0, last: 0 },
          { kind: 'write', item: c, first: 4, last: 4 },
        ],
      }),
      part(1, [b], { kind: 'each', decisions: [{ kind: 'refuse', item: b, error: conflict, metric: 'conflict' }] }),
    ]);
    expect(d).toEqual({ kind: 'refuse', errors: [undefined, conflict, undefined] });
  });

  it('a refusal wins over a member that must wait', () => {
    const conflict = new WrongExpectedVersionError('account-0', 3, 5);
    const d = decideAtomic(2, [
      part(0, [a], { kind: 'each', decisions: [{ kind: 'refuse', item: a, error: conflict, metric: 'conflict' }] }),
      part(1, [b], { kind: 'each', decisions: [{ kind: 'wait', item: b, delayMs: 10 }] }),
    ]);
    expect(d.kind).toBe('refuse');
  });

  it('sends the batch back when a member waits or a partition has no usable answer, naming expired holders', () => {
    expect(
      decideAtomic(2, [
        part(0, [a], { kind: 'each', decisions: [{ kind: 'write', item: a, first: 0, last: 0 }] }),
        part(1, [b], { kind: 'each', decisions: [{ kind: 'wait', item: b, delayMs: 15, resolveHolder: 'r1' }] }),
      ]),
    ).toEqual({ kind: 'retry', reason: 'busy', delayMs: 15, resolveHolders: ['r1'] });
    expect(
      decideAtomic(2, [
        part(0, [a], { kind: 'each', decisions: [{ kind: 'wait', item: a, delayMs: 5 }] }),
        part(1, [b], { kind: 'retry', reason: 'stale', delayMs: 200 }),
      ]),
    ).toMatchObject({ kind: 'retry', reason: 'stale', delayMs: 200 });
  });

  it('answers a retried batch that committed from its first write', () => {
    const d = decideAtomic(2, [
      part(0, [a], { kind: 'each', decisions: [{ kind: 'answer', item: a, outcome: outcome(a) }] }),
      part(1, [b], { kind: 'each', decisions: [{ kind: 'answer', item: b, outcome: outcome(b) }] }),
    ]);
    expect(d).toEqual({ kind: 'answer', outcomes: [outcome(a), outcome(b)] });
  });

  it('refuses members written before without the rest of the batch as event id conflicts', () => {
    const d = decideAtomic(2, [
      part(0, [a], { kind: 'each', decisions: [{ kind: 'answer', item: a, outcome: outcome(a) }] }),
      part(1, [b], { kind: 'each', decisions: [{ kind: 'write', item: b, first: 0, last: 0 }] }),
    ]);
    expect(d.kind).toBe('refuse');
    if (d.kind === 'refuse') {
      expect(d.errors[0]).toBeInstanceOf(EventIdConflictError);
      expect(d.errors[1]).toBeUndefined();
    }
  });

  it('never writes when a member has no answer', () => {
    const d = decideAtomic(2, [
      part(0, [a, b], { kind: 'each', decisions: [{ kind: 'write', item: a, first: 0, last: 0 }] }),
    ]);
    expect(d.kind).toBe('retry');
  });
});

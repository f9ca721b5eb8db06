import { describe, expect, it } from 'vitest';
import { reject } from './decider.js';
import { decideTogether } from './decideTogether.js';

/** A counter that refuses to go below zero and records refusals of steps that ask for it. */
type Event = { type: string; data: Record<string, unknown> };
const evolve = (state: number, event: Event): number =>
  event.type === 'Added' ? state + (event.data.n as number) : event.type === 'Broken' ? Number.NaN : state;
const decide = (command: { type: string; data: unknown }, state: number): readonly Event[] => {
  const n = (command.data as { n: number }).n;
  switch (command.type) {
    case 'add':
      if (state + n < 0) reject('below_zero', `${state} + ${n} < 0`);
      return n === 0 ? [] : [{ type: 'Added', data: { n } }];
    case 'step':
      if (state + n < 0) reject('below_zero', 'recorded', [{ type: 'StepRefused', data: { n } }]);
      return [{ type: 'Added', data: { n } }];
    case 'bug':
      throw new TypeError('boom');
    default:
      return [
        { type: 'Added', data: { n } },
        { type: 'Added', data: { n } },
      ];
  }
};
const add = (n: number) => ({ type: 'add', data: { n } });

describe('decideTogether', () => {
  it('decides each command on the state the accepted ones before it left, and concatenates their events', () => {
    const together = decideTogether({ version: 4, state: 1 }, [add(2), add(-3), add(5)], decide, evolve);
    expect(together.outcomes).toEqual([
      { kind: 'write', at: 0, events: [{ type: 'Added', data: { n: 2 } }] },
      { kind: 'write', at: 1, events: [{ type: 'Added', data: { n: -3 } }] },
      { kind: 'write', at: 2, events: [{ type: 'Added', data: { n: 5 } }] },
    ]);
    expect(together.events.map((e) => e.data.n)).toEqual([2, -3, 5]);
    expect(together.state).toBe(5);
  });

  it('a refused command adds nothing and the next is decided as if it had not been sent', () => {
    // 1 - 3 is refused; then 1 - 1 is accepted on 1, not on the -2 the refused one would have made.
    const together = decideTogether({ version: 0, state: 1 }, [add(-3), add(-1), add(4)], decide, evolve);
    expect(together.outcomes).toEqual([
      { kind: 'refused', refusal: { reason: 'below_zero', message: '1 + -3 < 0' }, version: 0 },
      { kind: 'write', at: 0, events: [{ type: 'Added', data: { n: -1 } }] },
      { kind: 'write', at: 1, events: [{ type: 'Added', data: { n: 4 } }] },
    ]);
    expect(together.state).toBe(4);
  });

  it('answers "nothing to do" at the version it was decided on, after the events before it', () => {
    const together = decideTogether(
      { version: 7, state: 0 },
      [{ type: 'twice', data: { n: 1 } }, add(0)],
      decide,
      evolve,
    );
    expect(together.outcomes[1]).toEqual({ kind: 'nothing', version: 9 });
    expect(together.events).toHaveLength(2);
  });

  it('writes a recorded refusal like a decision, and its record is part of the state after it', () => {
    const together = decideTogether(
      { version: -1, state: 0 },
      [{ type: 'step', data: { n: -1 } }, add(1)],
      decide,
      evolve,
    );
    expect(together.outcomes[0]).toEqual({
      kind: 'write',
      at: 0,
      events: [{ type: 'StepRefused', data: { n: -1 } }],
      refusal: { reason: 'below_zero', message: 'recorded' },
    });
    expect(together.outcomes[1]).toMatchObject({ kind: 'write', at: 1 });
    expect(together.state).toBe(1);
  });

  it('gives a command whose decide or evolve throws its own failure, without its events, and goes on', () => {
    const breaks = (state: number, event: Event): number => {
      if (event.data.n === 13) throw new RangeError('unlucky');
      return evolve(state, event);
    };
    const together = decideTogether(
      { version: 0, state: 0 },
      [{ type: 'bug', data: { n: 1 } }, add(13), add(2)],
      decide,
      breaks,
    );
    expect(together.outcomes[0]).toMatchObject({ kind: 'threw', during: 'decide' });
    expect(together.outcomes[1]).toMatchObject({ kind: 'threw', during: 'evolve' });
    expect(together.outcomes[2]).toEqual({ kind: 'write', at: 0, events: [{ type: 'Added', data: { n: 2 } }] });
    expect(together.state).toBe(2);
  });

  it('decides nothing for no commands', () => {
    expect(decideTogether({ version: 3, state: 9 }, [], decide, evolve)).toEqual({
      outcomes: [],
      events: [],
      state: 9,
    });
  });
});
